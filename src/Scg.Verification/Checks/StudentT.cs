using System;

namespace Scg.Verification.Checks;

/// <summary>
/// Student's t distribution's tail and quantiles. A z-score whose standard error is estimated from the same N
/// estimates follows t with N − 1 degrees of freedom (for normal estimates), whose tails are heavier than the
/// normal's: at |z| = 5 the two-sided probability is 5.7e-7 for the normal, 2.5e-5 for t with 29 degrees of freedom.
/// <see cref="EstimatorCheck"/> takes its bounds from here, so that the false-alarm rate it states holds at small N.
/// </summary>
public static class StudentT
{
    /// <summary>P(T &gt; t) for T ~ t(<paramref name="degreesOfFreedom"/>), to about 1e-14 relative.</summary>
    /// <param name="t">The point.</param>
    /// <param name="degreesOfFreedom">ν &gt; 0; infinity gives the normal tail.</param>
    /// <exception cref="ArgumentOutOfRangeException">ν is not positive.</exception>
    public static double UpperTail(double t, double degreesOfFreedom)
    {
        if (!(degreesOfFreedom > 0))
            throw new ArgumentOutOfRangeException(nameof(degreesOfFreedom), degreesOfFreedom, "Student's t needs positive degrees of freedom.");
        if (double.IsNaN(t)) return double.NaN;
        if (double.IsPositiveInfinity(degreesOfFreedom)) return StandardNormal.UpperTail(t);
        if (t < 0) return 1.0 - UpperTail(-t, degreesOfFreedom);
        // P(T > t) = ½ I_x(ν/2, ½) with x = ν / (ν + t²), the regularised incomplete beta function
        var x = degreesOfFreedom / (degreesOfFreedom + t * t);
        return 0.5 * RegularizedBeta(x, 0.5 * degreesOfFreedom, 0.5);
    }

    /// <summary>The bound t* with P(|T| &gt; t*) = <paramref name="twoSidedRate"/> for ν degrees of freedom.</summary>
    /// <param name="twoSidedRate">A probability in (0, 1).</param>
    /// <param name="degreesOfFreedom">ν &gt; 0 (N − 1 for a mean of N estimates).</param>
    /// <exception cref="ArgumentOutOfRangeException">The rate is not in (0, 1) or ν is not positive.</exception>
    public static double TwoSidedBound(double twoSidedRate, double degreesOfFreedom)
    {
        if (!(twoSidedRate > 0 && twoSidedRate < 1))
            throw new ArgumentOutOfRangeException(nameof(twoSidedRate), twoSidedRate, $"A false-alarm rate must lie strictly between 0 and 1 (got {twoSidedRate}).");
        if (!(degreesOfFreedom > 0))
            throw new ArgumentOutOfRangeException(nameof(degreesOfFreedom), degreesOfFreedom, "Student's t needs positive degrees of freedom.");
        double lo = 0, hi = 1;
        while (2.0 * UpperTail(hi, degreesOfFreedom) > twoSidedRate) (lo, hi) = (hi, 2 * hi);
        for (var i = 0; i < 200 && hi - lo > 1e-13 * hi; i++)
        {
            var mid = 0.5 * (lo + hi);
            if (2.0 * UpperTail(mid, degreesOfFreedom) > twoSidedRate) lo = mid; else hi = mid;
        }
        return 0.5 * (lo + hi);
    }

    /// <summary>
    /// The per-coordinate bound for <paramref name="coordinates"/> two-sided t-tests whose chance of any false alarm
    /// is at most <paramref name="familyRate"/> (Bonferroni: each at familyRate / coordinates).
    /// </summary>
    /// <param name="familyRate">The false-alarm rate of the whole family.</param>
    /// <param name="coordinates">The number of tests.</param>
    /// <param name="degreesOfFreedom">ν of each test (N − 1).</param>
    public static double BonferroniBound(double familyRate, int coordinates, double degreesOfFreedom) =>
        TwoSidedBound(familyRate / Math.Max(1, coordinates), degreesOfFreedom);

    /// <summary>I_x(a, b) by its continued fraction (modified Lentz), on the side where it converges fast.</summary>
    private static double RegularizedBeta(double x, double a, double b)
    {
        if (x <= 0) return 0;
        if (x >= 1) return 1;
        var logFront = LogGamma(a + b) - LogGamma(a) - LogGamma(b) + a * Math.Log(x) + b * Math.Log(1 - x);
        return x < (a + 1) / (a + b + 2)
            ? Math.Exp(logFront) * BetaFraction(x, a, b) / a
            : 1 - Math.Exp(logFront) * BetaFraction(1 - x, b, a) / b;
    }

    private static double BetaFraction(double x, double a, double b)
    {
        const double tiny = 1e-300;
        double c = 1, d = 1 - (a + b) * x / (a + 1);
        d = 1 / (Math.Abs(d) < tiny ? tiny : d);
        var h = d;
        for (var m = 1; m <= 10_000; m++)
        {
            // even step, then odd step of the fraction's terms
            var even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
            d = 1 + even * d; d = 1 / (Math.Abs(d) < tiny ? tiny : d);
            c = 1 + even / c; if (Math.Abs(c) < tiny) c = tiny;
            h *= d * c;
            var odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
            d = 1 + odd * d; d = 1 / (Math.Abs(d) < tiny ? tiny : d);
            c = 1 + odd / c; if (Math.Abs(c) < tiny) c = tiny;
            var step = d * c;
            h *= step;
            if (Math.Abs(step - 1) < 1e-16) break;
        }
        return h;
    }

    /// <summary>log Γ(x) for x &gt; 0: Lanczos' approximation (g = 7, nine terms), about 1e-15 relative.</summary>
    private static double LogGamma(double x)
    {
        if (x < 0.5) return Math.Log(Math.PI / Math.Sin(Math.PI * x)) - LogGamma(1 - x);
        ReadOnlySpan<double> p =
        [
            0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
            12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
        ];
        x -= 1;
        var sum = p[0];
        for (var i = 1; i < p.Length; i++) sum += p[i] / (x + i);
        var t = x + 7.5;
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(sum);
    }
}
