using System;

namespace Scg.Verification.Checks;

/// <summary>The standard normal distribution's tail and quantiles, for z-test thresholds.</summary>
public static class StandardNormal
{
    /// <summary>P(Z &gt; z) for Z ~ Normal(0, 1), to about 1e-15 absolute below z = 3 and 1e-12 relative above.</summary>
    /// <param name="z">The point.</param>
    public static double UpperTail(double z)
    {
        if (double.IsNaN(z)) return double.NaN;
        if (z < 0) return 1.0 - UpperTail(-z);
        var density = Math.Exp(-0.5 * z * z) / Math.Sqrt(2.0 * Math.PI);
        if (z <= 3.0)
        {
            // Φ(z) = ½ + φ(z) Σₙ z^(2n+1) / (1·3·5···(2n+1)): positive terms, no cancellation
            double term = z, sum = z;
            for (var n = 1; n < 500 && term > 1e-17 * sum; n++)
            {
                term *= z * z / (2 * n + 1);
                sum += term;
            }
            return 0.5 - density * sum;
        }
        // the continued fraction of the Mills ratio: Q(z) = φ(z) / (z + 1/(z + 2/(z + 3/(z + …))))
        var fraction = z;
        for (var k = 120; k >= 1; k--) fraction = z + k / fraction;
        return density / fraction;
    }

    /// <summary>The bound z* with P(|Z| &gt; z*) = <paramref name="twoSidedRate"/>.</summary>
    /// <param name="twoSidedRate">A probability in (0, 1).</param>
    public static double TwoSidedBound(double twoSidedRate)
    {
        if (!(twoSidedRate > 0 && twoSidedRate < 1))
            throw new ArgumentOutOfRangeException(nameof(twoSidedRate), $"A false-alarm rate must lie strictly between 0 and 1 (got {twoSidedRate}).");
        double lo = 0, hi = 40;
        for (var i = 0; i < 200 && hi - lo > 1e-13; i++)
        {
            var mid = 0.5 * (lo + hi);
            if (2.0 * UpperTail(mid) > twoSidedRate) lo = mid; else hi = mid;
        }
        return 0.5 * (lo + hi);
    }

    /// <summary>
    /// The per-coordinate bound for a family of <paramref name="coordinates"/> two-sided z-tests whose chance of any
    /// false alarm is at most <paramref name="familyRate"/> (Bonferroni: each coordinate at familyRate / coordinates).
    /// </summary>
    /// <param name="familyRate">The false-alarm rate of the whole family.</param>
    /// <param name="coordinates">The number of z-tests.</param>
    public static double BonferroniBound(double familyRate, int coordinates) =>
        TwoSidedBound(familyRate / Math.Max(1, coordinates));
}
