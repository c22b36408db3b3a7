using System;
using System.Collections.Generic;
using System.Linq;

namespace Scg.VarianceReport;

/// <summary>The error of one configuration's estimates in one parameter group (per sample, see <see cref="Configuration.Particles"/>).</summary>
/// <param name="Mse">E‖ĝ − g*‖² over the group's coordinates.</param>
/// <param name="Variance">The trace of the estimates' covariance over the group's coordinates.</param>
internal sealed record GroupError(double Mse, double Variance);

/// <summary>What one configuration measured: per-group errors, the largest |z| of the mean against the exact gradient, and the time.</summary>
/// <param name="Config">The configuration.</param>
/// <param name="Groups">One entry per parameter group, in order; empty when the configuration does not apply.</param>
/// <param name="MaxZ">max over coordinates of |mean − exact| / (sd / √N); NaN when not applicable.</param>
/// <param name="Seconds">The time taken to draw the estimates (warm-up and pre-training excluded).</param>
internal sealed record Summary(Configuration Config, IReadOnlyList<GroupError> Groups, double MaxZ, double Seconds)
{
    /// <summary>The summary of a configuration that does not apply to the model.</summary>
    public static Summary NotApplicable(Configuration config) => new(config, [], double.NaN, 0);

    /// <summary>Summarises N estimates (rows of <paramref name="exact"/>.Length coordinates) against the exact gradient.</summary>
    public static Summary Of(MeasuredModel model, Configuration config, double[] rows, int n, double[] exact, double seconds)
    {
        var d = exact.Length;
        var mean = new double[d];
        var variance = new double[d];
        var mse = new double[d];
        for (var j = 0; j < d; j++)
        {
            double sum = 0, squares = 0;
            for (var i = 0; i < n; i++)
            {
                var g = rows[i * d + j];
                sum += g;
                squares += (g - exact[j]) * (g - exact[j]);
            }
            mean[j] = sum / n;
            mse[j] = squares / n;
            double centred = 0;
            for (var i = 0; i < n; i++) centred += (rows[i * d + j] - mean[j]) * (rows[i * d + j] - mean[j]);
            variance[j] = centred / (n - 1);
        }
        // The estimates are float32: a coordinate whose spread is below float32 resolution (an exactly enumerated one)
        // is compared with a relative tolerance of 1e-5 instead of its vanishing standard error.
        var maxZ = Enumerable.Range(0, d).Max(j =>
            Math.Abs(mean[j] - exact[j]) / Math.Max(Math.Sqrt(variance[j] / n), 1e-5 * Math.Max(Math.Abs(exact[j]), 1e-3)));
        var groups = new List<GroupError>();
        var start = 0;
        foreach (var group in model.Groups)
        {
            var range = Enumerable.Range(start, group.Size);
            groups.Add(new GroupError(
                config.PerSampleFactor * range.Sum(j => mse[j]),
                config.PerSampleFactor * range.Sum(j => variance[j])));
            start += group.Size;
        }
        return new Summary(config, groups, maxZ, seconds);
    }
}
