using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace Scg.VarianceReport;

/// <summary>Renders one model's summaries as a markdown table, with the exact gradient's scale and the sanity line.</summary>
internal static class Report
{
    /// <summary>The markdown section of <paramref name="model"/>.</summary>
    public static string Table(MeasuredModel model, IReadOnlyList<Summary> summaries, double[] exact, int n)
    {
        var groups = model.Groups;
        var text = new StringBuilder();
        text.AppendLine($"### {model.Title}").AppendLine();
        text.Append("| configuration |");
        foreach (var g in groups) text.Append($" {g.Name} MSE | {g.Name} var / var(a) |");
        text.AppendLine(" max \\|z\\| | time |");
        text.Append("|---|");
        foreach (var _ in groups) text.Append("---:|---:|");
        text.AppendLine("---:|---:|");
        var reference = summaries[0];
        foreach (var s in summaries)
        {
            text.Append($"| {s.Config.Key} {s.Config.Description} |");
            if (s.Groups.Count == 0)
            {
                text.Append($" {s.Config.NotApplicable} |");
                for (var i = 1; i < 2 * groups.Count + 2; i++) text.Append(" |");
                text.AppendLine();
                continue;
            }
            for (var i = 0; i < groups.Count; i++)
                text.Append($" {Number(s.Groups[i].Mse)} | {Ratio(s.Groups[i].Variance / reference.Groups[i].Variance)} |");
            text.AppendLine($" {s.MaxZ.ToString("F1", CultureInfo.InvariantCulture)} | {s.Seconds.ToString("F0", CultureInfo.InvariantCulture)} s |");
        }
        text.AppendLine();
        var start = 0;
        var scales = new List<string>();
        foreach (var g in groups)
        {
            scales.Add($"{g.Name}: {Number(Enumerable.Range(start, g.Size).Sum(j => exact[j] * exact[j]))} ({g.Size} coordinate{(g.Size == 1 ? "" : "s")})");
            start += g.Size;
        }
        text.AppendLine($"N = {n.ToString("N0", CultureInfo.InvariantCulture)} estimates per configuration. ‖g*‖² of the exact gradient per group: {string.Join("; ", scales)}.");
        text.AppendLine("MSE = E‖ĝ − g*‖² and var = trace of the covariance, over the group's coordinates. Rows (e) are per sample: " +
                        "the K-particle estimate's MSE and variance times K, so K-fold averaging is not counted as a gain.");
        if (summaries.FirstOrDefault(s => s.Config.Key == "(b)") is { } check)
            text.AppendLine($"Sanity: (b)'s mean against the exact gradient, max |z| = {check.MaxZ.ToString("F2", CultureInfo.InvariantCulture)} " +
                            $"over {exact.Length} coordinates (every configuration is unbiased; |z| > 5 would mean a wrong oracle or estimator).");
        return text.ToString();
    }

    private static string Number(double value) =>
        value is >= 0.01 and < 1000 ? value.ToString("G3", CultureInfo.InvariantCulture) : value.ToString("0.00e+0", CultureInfo.InvariantCulture);

    private static string Ratio(double value) => value.ToString(value < 0.1 ? "F4" : "F3", CultureInfo.InvariantCulture);
}
