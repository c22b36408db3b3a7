using System;
using System.Collections.Immutable;

namespace Scg.Verification.Quadrature;

/// <summary>
/// Golub–Welsch without an eigen-solver: the nodes of an n-point Gauss rule are the eigenvalues of the symmetric
/// tridiagonal Jacobi matrix of the weight's orthonormal polynomials (zero diagonal for a symmetric weight,
/// off-diagonal b₁ … bₙ₋₁), found one by one by bisection on Sturm sequence counts; the weight of node t is the
/// Christoffel number 1 / Σₖ pₖ(t)², the orthonormal polynomials pₖ evaluated by their three-term recurrence.
/// </summary>
internal static class JacobiMatrix
{
    /// <summary>The rule for off-diagonal entries <paramref name="b"/> (b[k − 1] couples pₖ₋₁ and pₖ) and total mass <paramref name="mass"/>.</summary>
    public static QuadratureRule Rule(string name, int order, Func<int, double> b, double mass)
    {
        var off = new double[order];   // off[k] = b_k for k = 1 … n − 1; off[0] unused
        for (var k = 1; k < order; k++) off[k] = b(k);
        var bound = 0.0;
        for (var k = 0; k < order; k++) bound = Math.Max(bound, (k > 0 ? off[k] : 0) + (k + 1 < order ? off[k + 1] : 0));
        bound += 1e-12;
        var nodes = new double[order];
        var weights = new double[order];
        for (var i = 0; i < order; i++)
        {
            // the (i+1)-th smallest eigenvalue: the least x with more than i eigenvalues below it
            double lo = -bound, hi = bound;
            for (var iteration = 0; iteration < 200; iteration++)
            {
                var mid = 0.5 * (lo + hi);
                if (mid <= lo || mid >= hi) break;
                if (CountBelow(off, order, mid) > i) hi = mid; else lo = mid;
            }
            var t = 0.5 * (lo + hi);
            nodes[i] = t;
            weights[i] = 1.0 / SumOfSquares(off, order, t, mass);
        }
        return new QuadratureRule(name, ImmutableArray.Create(nodes), ImmutableArray.Create(weights));
    }

    /// <summary>How many eigenvalues of the matrix lie below <paramref name="x"/> (Sturm sequence of the LDLᵀ pivots).</summary>
    private static int CountBelow(double[] off, int order, double x)
    {
        var count = 0;
        var q = x;   // pivot of x·I − T, diagonal zero
        for (var k = 0; k < order; k++)
        {
            if (k > 0) q = x - off[k] * off[k] / q;
            if (q == 0) q = 1e-300;   // x an eigenvalue of a leading block: count it as just below x
            if (q > 0) count++;   // a positive pivot of xI − T: one eigenvalue below x
        }
        return count;
    }

    /// <summary>Σₖ pₖ(t)² over k = 0 … n − 1, with p₀ = 1/√mass and bₖ₊₁ pₖ₊₁ = t pₖ − bₖ pₖ₋₁.</summary>
    private static double SumOfSquares(double[] off, int order, double t, double mass)
    {
        var previous = 0.0;
        var current = 1.0 / Math.Sqrt(mass);
        var sum = current * current;
        for (var k = 0; k + 1 < order; k++)
        {
            var next = (t * current - (k > 0 ? off[k] * previous : 0)) / off[k + 1];
            previous = current;
            current = next;
            sum += current * current;
        }
        return sum;
    }
}
