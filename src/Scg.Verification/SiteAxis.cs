using System;
using System.Linq;
using Scg.Distributions;
using Scg.Verification.Quadrature;
using static TorchSharp.torch;

namespace Scg.Verification;

/// <summary>
/// How <see cref="Exact"/> integrates one sample site: its elements (every batch element, plate elements included, and
/// every event element of an <c>Independent</c>), the points per element (the support of a discrete family, the nodes
/// of a quadrature rule), and, for a joint index over all elements, the value and the log-weight of that point.
/// </summary>
internal sealed record SiteAxis(string Site, string Family, string Method, long Elements, long PerElement, bool Continuous, QuadratureRule? Rule)
{
    /// <summary>The number of joint points of the site (a double: it may be astronomically large).</summary>
    public double Points => Math.Pow(PerElement, Elements);

    /// <summary>"site 'z' (Normal, 2 elements × 20 Gauss–Hermite nodes: 400 points)".</summary>
    public string Describe() =>
        $"'{Site}' ({Family}, {Elements} element{(Elements == 1 ? "" : "s")} × {PerElement} {Method}: {Points:G6} points)";

    /// <summary>How a site with distribution <paramref name="dist"/> (expanded to its plates) is integrated, or an error.</summary>
    public static SiteAxis Of(string site, Distribution dist, ExactOptions options)
    {
        var inner = dist is Independent ind ? ind.Base : dist;
        while (inner is Independent again) inner = again.Base;
        var elements = inner.BatchShape.Aggregate(1L, (a, b) => a * b);
        switch (inner)
        {
            case Normal:
                return new(site, "Normal", "Gauss–Hermite nodes", elements, options.HermiteOrder, true, GaussRules.Hermite(options.HermiteOrder));
            case Beta beta when MinConcentration(beta) < 1.0:
                // the density grows without bound at an end of (0, 1), which Gauss–Legendre nodes cannot follow: the
                // "exact" value would be off by percents (measured: 3–11 % for concentrations 0.3–0.5)
                throw new ModelTooLargeException(
                    $"Exact: sample site '{site}' is a Beta with a concentration of {MinConcentration(beta):G4}, below 1: its density is unbounded at an end of " +
                    "(0, 1), where Gauss–Legendre quadrature does not converge, so no exact value can be given. Check this model at " +
                    "concentrations of at least 1, or compare two estimator configurations (EstimatorCheck.Compare).", [site]);
            case Uniform:
            case Beta:
                return new(site, inner.Name, "Gauss–Legendre nodes", elements, options.LegendreOrder, true, GaussRules.Legendre(options.LegendreOrder));
        }
        if (inner.EnumerateSupport() is { } support)
            return new(site, inner.Name, "values", elements, support.shape[0], false, null);
        throw new ModelTooLargeException(
            $"Exact: sample site '{site}' has a {dist.Name} distribution, which Exact cannot integrate: it enumerates discrete sites with a " +
            "finite support (Bernoulli, Categorical, OneHotCategorical) and integrates Normal sites by Gauss–Hermite and Uniform and Beta sites " +
            "by Gauss–Legendre quadrature. Check this model with two estimator configurations against each other instead " +
            "(EstimatorCheck.Compare).", [site]);
    }

    private static double MinConcentration(Beta beta)
    {
        using var scope = NewDisposeScope();
        return Math.Min(beta.Concentration1.detach().min().to_type(ScalarType.Float64).item<double>(),
                        beta.Concentration0.detach().min().to_type(ScalarType.Float64).item<double>());
    }

    /// <summary>The value of the site at joint point <paramref name="index"/>, and the log-weight of that point.</summary>
    public (Tensor Value, Tensor LogWeight) At(Distribution dist, long index)
    {
        var inner = dist is Independent ind ? ind.Base : dist;
        while (inner is Independent again) inner = again.Base;
        var shape = inner.BatchShape;
        var digits = new long[Elements];
        for (var e = 0; e < Elements; e++)
        {
            digits[e] = index % PerElement;
            index /= PerElement;
        }
        var picks = tensor(digits, ScalarType.Int64, dist.Device);
        if (Rule is null)
        {
            var support = inner.EnumerateSupport()!;
            var value = support.index_select(0, picks).reshape([.. shape, .. support.shape[1..]]);
            return (value, dist.LogProb(value).sum());
        }
        var t = tensor(Rule.Nodes.ToArray(), dist.DType, dist.Device).index_select(0, picks).reshape(shape);
        var logW = tensor(Rule.Weights.ToArray(), dist.DType, dist.Device).index_select(0, picks).log().sum();
        switch (inner)
        {
            case Normal n:
                // x = μ + σ√2 t, E[f] = Σ w f(x) / √π: differentiable through μ and σ
                return (n.Loc + n.Scale * (Math.Sqrt(2.0) * t), logW - Elements * 0.5 * Math.Log(Math.PI));
            case Uniform u:
                // x = a + (b − a)(t + 1)/2, density 1/(b − a), dx = (b − a)/2 dt: weight w/2, differentiable through a and b
                return (u.Low + (u.High - u.Low) * ((t + 1.0) * 0.5), logW - Elements * Math.Log(2.0));
            default:
                // Beta: fixed nodes on (0, 1), weight w/2 · p(x), differentiable through the density
                var x = (t + 1.0) * 0.5;
                return (x, logW - Elements * Math.Log(2.0) + dist.LogProb(x).sum());
        }
    }
}
