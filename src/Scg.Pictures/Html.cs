using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Reflection;
using System.Text;
using Scg.Distributions;
using Scg.Estimators;
using Scg.Linq;
using Scg.Objectives;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Pictures;

/// <summary>
/// HTML for notebook cells: what the .NET Interactive formatters this package registers (its
/// <c>interactive-extensions/dotnet/extension.dib</c>) display for a trace, a distribution, an objective, a chart and
/// a training result. Plain methods returning HTML fragments, usable anywhere.
/// </summary>
public static class Html
{
    /// <summary>How many values of each parameter a distribution shows.</summary>
    public const int ValuesShown = 6;

    /// <summary>
    /// The types whose values notebook cells display as HTML (the package's <c>extension.dib</c> registers a formatter
    /// for each, calling <see cref="OfValue"/>): traces, distributions, objectives, charts, image grids, training results.
    /// </summary>
    public static IReadOnlyList<Type> DisplayedTypes { get; } =
        [typeof(Trace), typeof(Distribution), typeof(IObjective), typeof(Chart), typeof(ImageGrid), typeof(FitResult)];

    /// <summary>
    /// The HTML of a value of one of <see cref="DisplayedTypes"/> (the matching <c>Of</c> overload, with default
    /// options): one entry point that a notebook extension can call through reflection from any kernel.
    /// </summary>
    /// <param name="value">A trace, distribution, objective, chart, image grid or training result.</param>
    /// <exception cref="ArgumentException">The value is of another type.</exception>
    public static string OfValue(object value) => value switch
    {
        Trace trace => Of(trace),
        Distribution distribution => Of(distribution),
        IObjective objective => Of(objective),
        Chart chart => Of(chart),
        ImageGrid grid => Of(grid),
        FitResult result => Of(result),
        null => throw new ArgumentNullException(nameof(value)),
        _ => throw new ArgumentException(
            $"Html.OfValue draws {string.Join(", ", DisplayedTypes.Select(t => t.Name))}, not {value.GetType().Name}.", nameof(value)),
    };

    /// <summary>
    /// A trace: its picture as inline SVG when Graphviz's <c>dot</c> is installed, else its Mermaid source (with a
    /// note on what to install); below it, each score-function site's credit and the nodes as text.
    /// </summary>
    /// <param name="trace">The trace.</param>
    /// <param name="options">Surrogate options the credit follows; default when null.</param>
    public static string Of(Trace trace, SurrogateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var sb = new StringBuilder("<div class=\"scg-trace\">");
        if (Graphviz.IsAvailable())
        {
            sb.Append(StripProlog(TracePictures.Svg(trace, options)));
        }
        else
        {
            sb.Append("<p><em>Graphviz's <code>dot</code> is not installed (Debian/Ubuntu: <code>apt-get install graphviz</code>); ")
              .Append("the trace as Mermaid:</em></p><pre class=\"mermaid\">")
              .Append(Encode(TraceFormat.ToMermaid(trace, options))).Append("</pre>");
        }
        var credits = Credit.Of(trace, options);
        if (!credits.IsEmpty)
        {
            sb.Append("<table><tr><th>score-function site</th><th>costs in its score term</th></tr>");
            foreach (var c in credits)
            {
                sb.Append("<tr><td>").Append(Encode(c.Site.Name)).Append("</td><td>");
                sb.Append(c.Costs.IsEmpty ? "<em>none</em>" : Encode(string.Join(", ", c.Costs.Select(Describe))));
                sb.Append("</td></tr>");
            }
            sb.Append("</table>");
        }
        sb.Append("<details><summary>nodes</summary><pre>").Append(Encode(TraceFormat.ToText(trace))).Append("</pre></details>");
        return sb.Append("</div>").ToString();
    }

    /// <summary>
    /// A distribution: its family, batch and event shapes, whether it is reparameterised, and each tensor parameter's
    /// shape with its first <see cref="ValuesShown"/> values (an <see cref="Independent"/>'s base distribution nested).
    /// </summary>
    /// <param name="distribution">The distribution.</param>
    public static string Of(Distribution distribution)
    {
        ArgumentNullException.ThrowIfNull(distribution);
        var sb = new StringBuilder("<div class=\"scg-distribution\"><table>");
        Row(sb, "family", Encode(distribution.Name));
        Row(sb, "batch shape", Shape(distribution.BatchShape));
        Row(sb, "event shape", Shape(distribution.EventShape));
        Row(sb, "reparameterised", distribution.IsReparameterized ? "yes (pathwise gradients)" : "no (score function)");
        if (distribution is Independent ind)
        {
            Row(sb, "base", Of(ind.Base));
        }
        else
        {
            foreach (var (name, t) in Parameters(distribution))
                Row(sb, Encode(name), Shape(t.shape) + " " + Encode(Values(t)));
        }
        return sb.Append("</table></div>").ToString();
    }

    /// <summary>An objective: its kind, its value and whether its loss has a gradient.</summary>
    /// <param name="objective">The objective.</param>
    public static string Of(IObjective objective)
    {
        ArgumentNullException.ThrowIfNull(objective);
        var sb = new StringBuilder("<div class=\"scg-objective\"><table>");
        Row(sb, "objective", Encode(objective.GetType().Name));
        Row(sb, "value (minimised)", Encode(Number(objective.Value)));
        Row(sb, "loss has a gradient", objective.Loss.requires_grad ? "yes" : "no");
        return sb.Append("</table></div>").ToString();
    }

    /// <summary>A chart as an inline PNG image.</summary>
    /// <param name="chart">The chart.</param>
    public static string Of(Chart chart)
    {
        ArgumentNullException.ThrowIfNull(chart);
        return Image(chart.Width, chart.Height, chart.Png());
    }

    /// <summary>A grid of images as an inline PNG image.</summary>
    /// <param name="grid">The grid.</param>
    public static string Of(ImageGrid grid)
    {
        ArgumentNullException.ThrowIfNull(grid);
        return Image(grid.Width, grid.Height, grid.Png());
    }

    private static string Image(int width, int height, byte[] png) =>
        $"<img width=\"{width}\" height=\"{height}\" src=\"data:image/png;base64,{Convert.ToBase64String(png)}\" />";

    /// <summary>A training result: its training curve and how it stopped.</summary>
    /// <param name="result">What <see cref="Training.Fit{T}"/> returned.</param>
    public static string Of(FitResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var sb = new StringBuilder("<div class=\"scg-fit\">");
        if (result.Values.Count > 0) sb.Append(Of(Charts.TrainingCurve(result, window: Math.Max(1, result.Values.Count / 20))));
        sb.Append("<p>").Append(result.StepsDone.ToString(CultureInfo.InvariantCulture)).Append(" steps, stopped by ")
          .Append(Encode(result.StoppedBy.ToString())).Append(", last value ")
          .Append(result.Values.Count > 0 ? result.Values[^1].ToString("G6", CultureInfo.InvariantCulture) : "none").Append("</p>");
        return sb.Append("</div>").ToString();
    }

    private static string Describe(CostCredit c) =>
        c.SummedOver.IsEmpty ? c.Cost.Name : $"{c.Cost.Name} (summed over {string.Join(", ", c.SummedOver.Select(p => p.Name))})";

    /// <summary>The public tensor properties of the distribution's class (its parameters), by name.</summary>
    private static IEnumerable<(string Name, Tensor Value)> Parameters(Distribution d)
    {
        foreach (var p in d.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            if (p.PropertyType != typeof(Tensor) || p.GetIndexParameters().Length > 0) continue;
            Tensor? value;
            try
            {
                value = p.GetValue(d) as Tensor;
            }
            catch (TargetInvocationException)
            {
                continue;
            }
            if (value is not null) yield return (p.Name, value);
        }
    }

    private static string Values(Tensor t)
    {
        using var scope = NewDisposeScope();
        var flat = t.detach().flatten();
        var n = (int)Math.Min(flat.shape[0], ValuesShown);
        var values = flat.narrow(0, 0, n).to_type(ScalarType.Float64).cpu().data<double>().ToArray();
        var text = string.Join(", ", values.Select(v => v.ToString("G4", CultureInfo.InvariantCulture)));
        return "[" + text + (flat.shape[0] > n ? ", …]" : "]");
    }

    private static string Number(Tensor t)
    {
        using var scope = NewDisposeScope();
        return t.numel() == 1
            ? t.detach().to_type(ScalarType.Float64).cpu().item<double>().ToString("G6", CultureInfo.InvariantCulture)
            : Shape(t.shape) + " " + Values(t);
    }

    private static void Row(StringBuilder sb, string key, string valueHtml) =>
        sb.Append("<tr><th style=\"text-align:left\">").Append(key).Append("</th><td style=\"text-align:left\">").Append(valueHtml).Append("</td></tr>");

    private static string Shape(long[] shape) => "[" + string.Join(", ", shape) + "]";

    private static string Encode(string s) => WebUtility.HtmlEncode(s);

    /// <summary>The SVG element alone, without the XML declaration and DOCTYPE that Graphviz writes before it.</summary>
    private static string StripProlog(string svg)
    {
        var start = svg.IndexOf("<svg", StringComparison.Ordinal);
        return start > 0 ? svg[start..] : svg;
    }
}
