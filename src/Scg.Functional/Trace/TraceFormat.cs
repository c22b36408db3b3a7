using System;
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
    /// A Mermaid flowchart: sample sites as rounded boxes (score-function sites marked), observations as
    /// parallelograms, costs as hexagons, and one arrow per dependency edge.
    /// </summary>
    /// <param name="trace">The trace to draw.</param>
    public static string ToMermaid(Trace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var sb = new StringBuilder("flowchart TD\n");
        foreach (var n in trace.Nodes.Where(n => n is not ParamNode))
        {
            var label = Label(n);
            sb.Append("  n").Append(n.Index).Append(n switch
            {
                SampleNode => $"(\"{label}\")",
                ObserveNode => $"[/\"{label}\"/]",
                _ => $"{{{{\"{label}\"}}}}",
            }).Append('\n');
        }
        foreach (var (from, to) in trace.Edges)
            sb.Append("  n").Append(from.Index).Append(" --> n").Append(to.Index).Append('\n');
        return sb.ToString();
    }

    /// <summary>
    /// A Graphviz DOT digraph: sample sites as ellipses (score-function sites dashed), observations shaded,
    /// costs as boxes, one arrow per dependency edge.
    /// </summary>
    /// <param name="trace">The trace to draw.</param>
    public static string ToDot(Trace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var sb = new StringBuilder("digraph trace {\n");
        foreach (var n in trace.Nodes.Where(n => n is not ParamNode))
        {
            var style = n switch
            {
                SampleNode { IsScoreFunction: true } => "shape=ellipse, style=dashed",
                SampleNode => "shape=ellipse",
                ObserveNode => "shape=ellipse, style=filled, fillcolor=gray85",
                _ => "shape=box",
            };
            sb.Append("  n").Append(n.Index).Append(" [label=\"").Append(Label(n)).Append("\", ").Append(style).Append("];\n");
        }
        foreach (var (from, to) in trace.Edges)
            sb.Append("  n").Append(from.Index).Append(" -> n").Append(to.Index).Append(";\n");
        return sb.Append("}\n").ToString();
    }

    private static string Label(TraceNode n)
    {
        var plates = n.Plates.IsEmpty ? "" : " in " + string.Join(",", n.Plates.Select(p => p.Name));
        var kind = n switch
        {
            SampleNode s => $"{s.Name} ~ {s.Distribution.Name}{(s.IsScoreFunction ? " (score)" : "")}",
            ObserveNode o => $"{o.Name} ~ {o.Distribution.Name} (observed)",
            _ => n.Name,
        };
        return (kind + plates).Replace("\"", "'", StringComparison.Ordinal);
    }
}
