using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ScottPlot;
using Scg.Linq;

namespace Scg.Pictures;

/// <summary>
/// Charts of training and of estimators, from plain data: a training curve (an objective's value per step), a
/// return curve for policy search, and variance bars comparing gradient estimators. Each returns a
/// <see cref="Chart"/> to write as PNG or SVG.
/// </summary>
public static class Charts
{
    /// <summary>
    /// The objective's value per step, with its moving average over <paramref name="window"/> steps when the
    /// window is above 1 (the raw values then drawn faintly).
    /// </summary>
    /// <param name="values">The value at each step.</param>
    /// <param name="firstStep">The step number of <c>values[0]</c>.</param>
    /// <param name="window">The moving average's width; 1 or less draws the values alone.</param>
    /// <param name="title">The chart's title.</param>
    /// <param name="yLabel">The vertical axis' label.</param>
    /// <exception cref="ArgumentException"><paramref name="values"/> is empty.</exception>
    public static Chart TrainingCurve(IReadOnlyList<double> values, int firstStep = 0, int window = 1,
        string title = "Training", string yLabel = "objective (minimised)") =>
        Curve(values, firstStep, window, title, "step", yLabel, nameof(values));

    /// <summary>The values of a <see cref="Training.Fit{T}"/> call per step (see the other overload).</summary>
    /// <param name="result">What <c>Fit</c> returned.</param>
    /// <param name="window">The moving average's width; 1 or less draws the values alone.</param>
    /// <param name="title">The chart's title.</param>
    public static Chart TrainingCurve(FitResult result, int window = 1, string title = "Training")
    {
        ArgumentNullException.ThrowIfNull(result);
        return TrainingCurve(result.Values, result.FirstStep, window, title);
    }

    /// <summary>The costs reported by a training loop's steps (see the first overload).</summary>
    /// <param name="steps">The steps, in order.</param>
    /// <param name="window">The moving average's width; 1 or less draws the values alone.</param>
    /// <param name="title">The chart's title.</param>
    public static Chart TrainingCurve(IEnumerable<TrainingStep> steps, int window = 1, string title = "Training")
    {
        ArgumentNullException.ThrowIfNull(steps);
        var list = steps.ToList();
        return TrainingCurve([.. list.Select(s => s.Cost)], list.Count > 0 ? list[0].Step : 0, window, title);
    }

    /// <summary>
    /// Policy search: the mean return per iteration (higher is better), with its moving average over
    /// <paramref name="window"/> iterations.
    /// </summary>
    /// <param name="returns">The return at each iteration.</param>
    /// <param name="window">The moving average's width; 1 or less draws the values alone.</param>
    /// <param name="title">The chart's title.</param>
    /// <param name="xLabel">What one value is: the horizontal axis' label ("episode" for a
    /// <see cref="Scg.Policy.PolicySearchResult"/>'s returns, one per episode).</param>
    /// <exception cref="ArgumentException"><paramref name="returns"/> is empty.</exception>
    public static Chart ReturnCurve(IReadOnlyList<double> returns, int window = 10, string title = "Policy search", string xLabel = "iteration") =>
        Curve(returns, 0, window, title, xLabel, "return", nameof(returns));

    /// <summary>
    /// One bar per gradient estimator: its variance (the trace of the estimates' covariance, per sample, as the
    /// variance report measures it), on a log scale by default since estimators differ by orders of magnitude.
    /// </summary>
    /// <param name="estimators">The estimators' names, one per bar.</param>
    /// <param name="variances">The variances, positive, in the same order (NaN: not applicable, no bar).</param>
    /// <param name="title">The chart's title.</param>
    /// <param name="valueLabel">The vertical axis' label.</param>
    /// <param name="logScale">Draw log10 of the values, labelled as powers of ten.</param>
    /// <exception cref="ArgumentException">The lists differ in length or are empty, or, on a log scale, a value is
    /// zero or negative.</exception>
    public static Chart VarianceBars(IReadOnlyList<string> estimators, IReadOnlyList<double> variances,
        string title = "Gradient variance per estimator", string valueLabel = "variance (per sample)", bool logScale = true)
    {
        ArgumentNullException.ThrowIfNull(estimators);
        ArgumentNullException.ThrowIfNull(variances);
        if (estimators.Count != variances.Count || estimators.Count == 0)
            throw new ArgumentException(
                $"VarianceBars needs one variance per estimator: got {estimators.Count} names and {variances.Count} values.", nameof(variances));
        var shown = Enumerable.Range(0, variances.Count).Where(i => !double.IsNaN(variances[i])).ToList();
        if (logScale && shown.FirstOrDefault(i => variances[i] <= 0, -1) is var bad and >= 0)
            throw new ArgumentException(
                $"The variance of '{estimators[bad]}' is {variances[bad]}: a log scale needs positive values (pass logScale: false).", nameof(variances));
        var heights = variances.Select(v => logScale ? Math.Log10(v) : v).ToArray();
        var floor = logScale && shown.Count > 0 ? Math.Floor(shown.Min(i => heights[i])) - 0.5 : 0;
        var plot = NewPlot();
        var bars = shown.Select(i => new Bar
        {
            Position = i,
            Value = heights[i],
            ValueBase = floor,
            FillColor = Colors.Category10[i % Colors.Category10.Length],
        }).ToList();
        plot.Add.Bars(bars);
        foreach (var bar in bars)
        {
            var text = plot.Add.Text(variances[(int)bar.Position].ToString("G3", CultureInfo.InvariantCulture), bar.Position, bar.Value);
            text.LabelFontSize = 11;
            text.LabelAlignment = Alignment.LowerCenter;
        }
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, estimators.Count).Select(i => (double)i)], [.. estimators]);
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        if (logScale)
        {
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                IntegerTicksOnly = true,
                LabelFormatter = y => $"1e{y:0}",
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            };
            var top = shown.Count > 0 ? shown.Max(i => heights[i]) : 1;
            plot.Axes.SetLimitsY(floor, Math.Ceiling(top) + 0.3);
        }
        else
        {
            plot.Axes.Margins(bottom: 0);
        }
        plot.Title(title);
        plot.YLabel(valueLabel);
        return new Chart(plot, Math.Max(560, 120 * estimators.Count), 400);
    }

    private static Chart Curve(IReadOnlyList<double> values, int first, int window, string title, string xLabel, string yLabel, string name)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new ArgumentException($"{title}: there are no values to draw.", name);
        var xs = Enumerable.Range(first, values.Count).Select(i => (double)i).ToArray();
        var ys = values.ToArray();
        var plot = NewPlot();
        var raw = plot.Add.ScatterLine(xs, ys);
        if (window > 1 && values.Count > 1)
        {
            raw.Color = Colors.SteelBlue.WithAlpha(0.35);
            raw.LegendText = $"per {xLabel}";
            var smooth = plot.Add.ScatterLine(xs, MovingAverage(ys, window));
            smooth.Color = Colors.SteelBlue;
            smooth.LineWidth = 2;
            smooth.LegendText = $"moving average ({window})";
            // the legend goes in the corner the curve leaves free: below a rising curve's end, above a falling one's
            var quarter = Math.Max(1, ys.Length / 4);
            var rising = ys.TakeLast(quarter).Where(double.IsFinite).DefaultIfEmpty(0).Average()
                         > ys.Take(quarter).Where(double.IsFinite).DefaultIfEmpty(0).Average();
            plot.ShowLegend(rising ? Alignment.LowerRight : Alignment.UpperRight);
        }
        else
        {
            raw.Color = Colors.SteelBlue;
            raw.LineWidth = 2;
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        return new Chart(plot);
    }

    /// <summary>A plot whose fonts are ones installed here (ScottPlot's defaults may be missing on a server).</summary>
    private static Plot NewPlot()
    {
        var plot = new Plot();
        plot.Font.Automatic();
        return plot;
    }

    /// <summary>The mean of the last <paramref name="window"/> values at each point (fewer at the start).</summary>
    internal static double[] MovingAverage(double[] ys, int window)
    {
        var result = new double[ys.Length];
        double sum = 0;
        for (var i = 0; i < ys.Length; i++)
        {
            sum += ys[i];
            if (i >= window) sum -= ys[i - window];
            result[i] = sum / Math.Min(i + 1, window);
        }
        return result;
    }
}
