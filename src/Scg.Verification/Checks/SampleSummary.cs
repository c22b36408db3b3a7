using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;

namespace Scg.Verification.Checks;

/// <summary>Per-coordinate mean, sample variance and standard error of the mean of N estimate vectors.</summary>
/// <param name="Mean">The mean per coordinate.</param>
/// <param name="Variance">The sample variance (divisor N − 1) per coordinate.</param>
/// <param name="N">The number of estimates.</param>
public sealed record SampleSummary(ImmutableArray<double> Mean, ImmutableArray<double> Variance, int N)
{
    /// <summary>The standard error of the mean per coordinate, √(variance / N).</summary>
    public ImmutableArray<double> StandardError => [.. Variance.Select(v => Math.Sqrt(v / N))];

    /// <summary>Summarises <paramref name="samples"/> (each an estimate vector of the same length; at least two).</summary>
    /// <param name="samples">The estimates.</param>
    public static SampleSummary Of(IReadOnlyList<double[]> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count < 2) throw new ArgumentException($"A summary needs at least two estimates (got {samples.Count}).", nameof(samples));
        var n = samples.Count;
        var d = samples[0].Length;
        var mean = new double[d];
        var variance = new double[d];
        for (var j = 0; j < d; j++)
        {
            var m = 0.0;
            foreach (var s in samples) m += s[j];
            m /= n;
            var v = 0.0;
            foreach (var s in samples) v += (s[j] - m) * (s[j] - m);
            mean[j] = m;
            variance[j] = v / (n - 1);
        }
        return new SampleSummary([.. mean], [.. variance], n);
    }

    /// <summary>
    /// z = (mean − exact) / standard error per coordinate. A coordinate whose mean equals the exact value to 1e-9
    /// (relative) gets 0, whatever its standard error: an exact estimator (every site enumerated, a closed-form KL)
    /// has a standard error of rounding size, against which a rounding-size difference would be many "standard errors".
    /// Otherwise a standard error of 0 gives ±∞.
    /// </summary>
    /// <param name="exact">The exact values, one per coordinate.</param>
    public ImmutableArray<double> ZScores(IReadOnlyList<double> exact)
    {
        ArgumentNullException.ThrowIfNull(exact);
        var se = StandardError;
        return [.. Mean.Select((m, j) => Z(m - exact[j], se[j], exact[j]))];
    }

    /// <summary>
    /// Two-sample z = (mean − other's mean) / √(se² + other's se²) per coordinate (independent samples).
    /// </summary>
    /// <param name="other">The other sample's summary.</param>
    public ImmutableArray<double> ZScores(SampleSummary other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var se = StandardError;
        var so = other.StandardError;
        return [.. Mean.Select((m, j) => Z(m - other.Mean[j], Math.Sqrt(se[j] * se[j] + so[j] * so[j]), other.Mean[j]))];
    }

    private static double Z(double difference, double se, double reference) =>
        Math.Abs(difference) <= 1e-9 * (1.0 + Math.Abs(reference)) ? 0.0
        : se > 0 ? difference / se
        : difference > 0 ? double.PositiveInfinity : double.NegativeInfinity;
}
