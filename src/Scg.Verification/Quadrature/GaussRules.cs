using System;
using System.Collections.Concurrent;
using System.Linq;

namespace Scg.Verification.Quadrature;

/// <summary>
/// Gauss–Hermite and Gauss–Legendre rules of any order from 1 to 200, computed here (Golub–Welsch on the Jacobi matrix,
/// eigenvalues by bisection) to about 1e-14, and cached.
/// </summary>
public static class GaussRules
{
    private static readonly ConcurrentDictionary<(bool Hermite, int Order), QuadratureRule> Cache = new();

    /// <summary>
    /// The n-point Gauss–Hermite rule for the weight e^(−t²) on the real line: for X ~ Normal(μ, σ),
    /// E[f(X)] ≈ Σᵢ wᵢ f(μ + σ√2 tᵢ) / √π, exact for polynomials of degree up to 2n − 1.
    /// </summary>
    /// <param name="order">The number of nodes, 1 … 200.</param>
    public static QuadratureRule Hermite(int order) =>
        Cache.GetOrAdd((true, CheckOrder(order)), k => JacobiMatrix.Rule("Gauss–Hermite", k.Order, j => Math.Sqrt(j / 2.0), Math.Sqrt(Math.PI)));

    /// <summary>
    /// The n-point Gauss–Legendre rule for the weight 1 on [−1, 1]: ∫ₐᵇ f(x) dx ≈ (b − a)/2 Σᵢ wᵢ f(a + (b − a)(tᵢ + 1)/2),
    /// exact for polynomials of degree up to 2n − 1.
    /// </summary>
    /// <param name="order">The number of nodes, 1 … 200.</param>
    public static QuadratureRule Legendre(int order) =>
        Cache.GetOrAdd((false, CheckOrder(order)), k => JacobiMatrix.Rule("Gauss–Legendre", k.Order, j => j / Math.Sqrt(4.0 * j * j - 1.0), 2.0));

    /// <summary>E[f(X)] for X ~ Normal(<paramref name="mean"/>, <paramref name="sd"/>) by the n-point Gauss–Hermite rule.</summary>
    /// <param name="mean">μ.</param>
    /// <param name="sd">σ &gt; 0.</param>
    /// <param name="order">The number of nodes.</param>
    /// <param name="f">The function to average.</param>
    public static double NormalExpectation(double mean, double sd, int order, Func<double, double> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        var rule = Hermite(order);
        return rule.Nodes.Zip(rule.Weights, (t, w) => w * f(mean + sd * Math.Sqrt(2.0) * t)).Sum() / Math.Sqrt(Math.PI);
    }

    /// <summary>∫ f(x) dx over [<paramref name="a"/>, <paramref name="b"/>] by the n-point Gauss–Legendre rule.</summary>
    /// <param name="a">The lower end.</param>
    /// <param name="b">The upper end.</param>
    /// <param name="order">The number of nodes.</param>
    /// <param name="f">The integrand.</param>
    public static double Integral(double a, double b, int order, Func<double, double> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        var rule = Legendre(order);
        var half = (b - a) / 2.0;
        return half * rule.Nodes.Zip(rule.Weights, (t, w) => w * f(a + half * (t + 1.0))).Sum();
    }

    private static int CheckOrder(int order) =>
        order is >= 1 and <= 200 ? order : throw new ArgumentOutOfRangeException(nameof(order), $"A quadrature order must lie in 1 … 200 (got {order}).");
}
