using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace Scg.Tracing;

/// <summary>Renders a trace as text, as a Mermaid flowchart or as a Graphviz DOT graph.</summary>
public static class TraceFormat
{
    /// <summary>One line per node in program order, with its plates.</summary>
    /// <param name="trace">The trace to print.</param>
    public static string ToText(Trace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var sb = new StringBuilder();
        foreach (var n in trace.Nodes)
        {
            sb.Append(n.Index).Append(": ").Append(n.Describe());
            if (!n.Plates.IsEmpty) sb.Append(" in ").Append(string.Join(" × ", n.Plates));
            sb.AppendLine();
        }
        return sb.ToString();
    }

    /// <summary>
    /// A Mermaid flowchart drawn as the lecture draws a stochastic computation graph: sample sites as circles
    /// (observations shaded), costs as squares, parameters as diamonds, plates as boxes captioned with their name
    /// and size. Dependency edges from a reparameterised (pathwise) site are thick (<c>==&gt;</c>): gradients pass
    /// through the value; edges from other sites are plain and grey-dashed (<c>--&gt;</c>): the value flows, the
    /// gradient is blocked. Each score-function site's credit (<see cref="Estimators.Credit"/>: the costs in its
    /// score term) is drawn as dotted arrows (<c>-.-&gt;</c>) from those costs to the site in one colour per site,
    /// labelled with the plates a cost is summed over. A parameter's arrow goes to the first node recorded after
    /// its first read.
    /// </summary>
    /// <param name="trace">The trace to draw.</param>
    /// <param name="options">Surrogate options the credit follows (<see cref="Estimators.SurrogateOptions.TotalCost"/>); default when null.</param>
    public static string ToMermaid(Trace trace, Estimators.SurrogateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var d = TraceDrawing.Of(trace, options);
        var sb = new StringBuilder("flowchart TD\n");
        sb.Append("  classDef observed fill:#d9d9d9,stroke:#333\n");
        sb.Append("  classDef param fill:#ffffff,stroke:#999\n");
        foreach (var p in d.Params) sb.Append("  n").Append(p.Index).Append("{\"").Append(Escape(p.Name)).Append("\"}:::param\n");
        MermaidBox(sb, d.Root, "  ");
        var links = 0;
        var styles = new StringBuilder();
        foreach (var (param, to) in d.ParamEdges)
        {
            sb.Append("  n").Append(param.Index).Append(" --> n").Append(to.Index).Append('\n');
            styles.Append("  linkStyle ").Append(links++).Append(" stroke:#999\n");
        }
        foreach (var (from, to, pathwise) in d.Edges)
        {
            sb.Append("  n").Append(from.Index).Append(pathwise ? " ==> n" : " --> n").Append(to.Index).Append('\n');
            if (!pathwise) styles.Append("  linkStyle ").Append(links).Append(" stroke:#888,stroke-dasharray:4 3\n");
            links++;
        }
        for (var k = 0; k < d.Credits.Length; k++)
        {
            var color = TraceDrawing.ColorOf(k);
            var site = d.Credits[k].Site;
            sb.Append("  style n").Append(site.Index).Append(" stroke:").Append(color).Append(",stroke-width:3px\n");
            foreach (var c in d.Credits[k].Costs)
            {
                sb.Append("  n").Append(c.Cost.Index).Append(" -.-> ");
                if (!c.SummedOver.IsEmpty) sb.Append("|\"Σ ").Append(Escape(string.Join(",", c.SummedOver.Select(p => p.Name)))).Append("\"| ");
                sb.Append('n').Append(site.Index).Append('\n');
                styles.Append("  linkStyle ").Append(links++).Append(" stroke:").Append(color).Append(",stroke-width:2px\n");
            }
        }
        return sb.Append(styles).ToString();
    }

    private static void MermaidBox(StringBuilder sb, TraceDrawing.PlateBox box, string indent)
    {
        foreach (var n in box.Nodes)
        {
            var label = Escape(TraceDrawing.Label(n)).Replace("\n", "<br/>", StringComparison.Ordinal);
            sb.Append(indent).Append('n').Append(n.Index).Append(n switch
            {
                SampleNode => $"((\"{label}\"))",
                ObserveNode => $"((\"{label}\")):::observed",
                _ => $"[\"{label}\"]",
            }).Append('\n');
        }
        foreach (var child in box.Children)
        {
            sb.Append(indent).Append("subgraph ").Append(child.Id).Append(" [\"").Append(Escape(TraceDrawing.Caption(child.Plate!))).Append("\"]\n");
            MermaidBox(sb, child, indent + "  ");
            sb.Append(indent).Append("end\n");
        }
    }

    /// <summary>
    /// A Graphviz DOT digraph drawn as the lecture draws a stochastic computation graph: sample sites as circles
    /// (observations shaded), costs as squares, parameters as plain labels, plates as boxes (clusters) captioned
    /// with their name and size. Dependency edges from a reparameterised (pathwise) site are solid: gradients pass
    /// through the value; edges from other sites are grey and dashed: the value flows, the gradient is blocked.
    /// Each score-function site's credit (<see cref="Estimators.Credit"/>: the costs in its score term) is drawn as
    /// dotted arrows from those costs to the site in one colour per site (the site's outline has the same colour),
    /// labelled with the plates a cost is summed over. A parameter's arrow goes to the first node recorded after
    /// its first read. Render it with Graphviz <c>dot</c> (the Scg.Pictures package does).
    /// </summary>
    /// <param name="trace">The trace to draw.</param>
    /// <param name="options">Surrogate options the credit follows (<see cref="Estimators.SurrogateOptions.TotalCost"/>); default when null.</param>
    public static string ToDot(Trace trace, Estimators.SurrogateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var d = TraceDrawing.Of(trace, options);
        var colorOf = new Dictionary<int, string>();
        for (var k = 0; k < d.Credits.Length; k++) colorOf[d.Credits[k].Site.Index] = TraceDrawing.ColorOf(k);
        var sb = new StringBuilder("digraph trace {\n");
        sb.Append("  graph [fontname=\"Helvetica\", fontsize=11, labelloc=b, label=\"solid: pathwise (the gradient flows through the value)\\ndashed: value only, gradient blocked (score function)\\ndotted, coloured: credit (the costs in a site's score term)\"];\n");
        sb.Append("  node [fontname=\"Helvetica\", fontsize=11, margin=0.02];\n  edge [fontname=\"Helvetica\", fontsize=10];\n");
        foreach (var p in d.Params)
            sb.Append("  n").Append(p.Index).Append(" [label=\"").Append(Escape(p.Name)).Append("\", shape=plaintext];\n");
        DotBox(sb, d.Root, "  ", colorOf);
        foreach (var (param, to) in d.ParamEdges)
            sb.Append("  n").Append(param.Index).Append(" -> n").Append(to.Index).Append(" [color=gray50];\n");
        foreach (var (from, to, pathwise) in d.Edges)
            sb.Append("  n").Append(from.Index).Append(" -> n").Append(to.Index)
              .Append(pathwise ? " [style=solid, penwidth=1.5];\n" : " [style=dashed, color=gray45];\n");
        for (var k = 0; k < d.Credits.Length; k++)
            foreach (var c in d.Credits[k].Costs)
            {
                sb.Append("  n").Append(c.Cost.Index).Append(" -> n").Append(d.Credits[k].Site.Index)
                  .Append(" [style=dotted, penwidth=1.8, arrowhead=empty, constraint=false, color=\"").Append(TraceDrawing.ColorOf(k)).Append('"');
                if (!c.SummedOver.IsEmpty)
                    sb.Append(", label=\"Σ ").Append(Escape(string.Join(",", c.SummedOver.Select(p => p.Name)))).Append('"');
                sb.Append("];\n");
            }
        return sb.Append("}\n").ToString();
    }

    private static void DotBox(StringBuilder sb, TraceDrawing.PlateBox box, string indent, Dictionary<int, string> colorOf)
    {
        foreach (var n in box.Nodes)
        {
            var style = n switch
            {
                SampleNode s when colorOf.TryGetValue(s.Index, out var color) => $"shape=circle, color=\"{color}\", penwidth=2",
                SampleNode => "shape=circle",
                ObserveNode => "shape=circle, style=filled, fillcolor=gray85",
                _ => "shape=square",
            };
            sb.Append(indent).Append('n').Append(n.Index).Append(" [label=\"").Append(Escape(TraceDrawing.Label(n)).Replace("\n", "\\n", StringComparison.Ordinal))
              .Append("\", ").Append(style).Append("];\n");
        }
        foreach (var child in box.Children)
        {
            sb.Append(indent).Append("subgraph cluster_").Append(child.Id).Append(" {\n");
            sb.Append(indent).Append("  label=\"").Append(Escape(TraceDrawing.Caption(child.Plate!))).Append("\"; labeljust=r; style=rounded;\n");
            DotBox(sb, child, indent + "  ", colorOf);
            sb.Append(indent).Append("}\n");
        }
    }

    private static string Escape(string s) => s.Replace("\"", "'", StringComparison.Ordinal);
}
