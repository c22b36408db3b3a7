using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Scg.Estimators;

namespace Scg.Tracing;

/// <summary>
/// What a picture of a trace shows, independent of the output language: its nodes grouped by plate (a tree of
/// boxes keyed by the plates around each node, outermost first, so a reopened plate is one box), the dependency
/// edges (pathwise when the upstream site is reparameterised, blocked otherwise), where each parameter was first
/// read, and the credit of every score-function site (<see cref="Credit"/>).
/// </summary>
internal sealed class TraceDrawing
{
    /// <summary>Colours for the credit of successive score-function sites (they repeat after the last).</summary>
    public static readonly ImmutableArray<string> Palette = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

    private TraceDrawing(Trace trace, SurrogateOptions? options)
    {
        Root = new PlateBox(null, []);
        foreach (var n in trace.Nodes.Where(n => n is not ParamNode))
        {
            var box = Root;
            foreach (var p in n.Plates) box = box.Child(p);
            box.Nodes.Add(n);
        }
        Params = [.. trace.Params];
        Edges = [.. trace.Edges.Select(e => (e.From, e.To, e.From.IsReparameterized))];
        ParamEdges = [.. trace.Params
            .Select(p => (Param: p, To: trace.Nodes.Skip(p.Index + 1).FirstOrDefault(n => n is not ParamNode)))
            .Where(e => e.To is not null)
            .Select(e => (e.Param, e.To!))];
        Credits = Credit.Of(trace, options);
    }

    /// <summary>Builds the drawing of <paramref name="trace"/>.</summary>
    public static TraceDrawing Of(Trace trace, SurrogateOptions? options) => new(trace, options);

    /// <summary>The nodes outside every plate, and the plates below.</summary>
    public PlateBox Root { get; }

    /// <summary>The parameters read, drawn outside the plates.</summary>
    public ImmutableArray<ParamNode> Params { get; }

    /// <summary>Dependency edges; <c>Pathwise</c> when a gradient passes through the upstream value.</summary>
    public ImmutableArray<(SampleNode From, TraceNode To, bool Pathwise)> Edges { get; }

    /// <summary>Each parameter and the first sample, observe or cost node recorded after its first read.</summary>
    public ImmutableArray<(ParamNode Param, TraceNode To)> ParamEdges { get; }

    /// <summary>The credit of every score-function site, in program order.</summary>
    public ImmutableArray<SiteCredit> Credits { get; }

    /// <summary>The colour of the <paramref name="k"/>-th score-function site's credit.</summary>
    public static string ColorOf(int k) => Palette[k % Palette.Length];

    /// <summary>A node's label: its name, its family and how gradients pass it.</summary>
    public static string Label(TraceNode n) => (n switch
    {
        SampleNode s => $"{s.Name} ~ {s.Distribution.Name}\n({How(s)})",
        ObserveNode o => $"{o.Name} ~ {o.Distribution.Name}\n(observed)",
        _ => n.Name,
    }).Replace("\"", "'", System.StringComparison.Ordinal);

    private static string How(SampleNode s) =>
        s.IsEnumerated ? "enumerated" : s.IsReplayed ? "replayed" : s.IsScoreFunction ? "score function" : "pathwise";

    /// <summary>A plate's caption: its name and size (and minibatch scale when subsampled).</summary>
    public static string Caption(PlateFrame p) =>
        p.Scale == 1.0 ? $"{p.Name} ({p.Size})" : $"{p.Name} ({p.Size}, scaled ×{p.Scale:0.###})";

    /// <summary>A box of the plate tree: the nodes directly inside it and the boxes nested in it.</summary>
    internal sealed class PlateBox(PlateFrame? plate, ImmutableArray<int> path)
    {
        /// <summary>The plate, or null for the root (no plate).</summary>
        public PlateFrame? Plate { get; } = plate;

        /// <summary>The plate ids from the outermost box to this one, naming the box uniquely.</summary>
        public ImmutableArray<int> Path { get; } = path;

        /// <summary>The nodes directly inside, in program order.</summary>
        public List<TraceNode> Nodes { get; } = [];

        /// <summary>The nested boxes, in order of first appearance.</summary>
        public List<PlateBox> Children { get; } = [];

        /// <summary>An identifier for the box in DOT and Mermaid.</summary>
        public string Id => "plate_" + string.Join("_", Path);

        /// <summary>The nested box of <paramref name="p"/>, created on first use.</summary>
        public PlateBox Child(PlateFrame p)
        {
            foreach (var c in Children)
                if (c.Plate!.Id == p.Id) return c;
            var box = new PlateBox(p, Path.Add(p.Id));
            Children.Add(box);
            return box;
        }
    }
}
