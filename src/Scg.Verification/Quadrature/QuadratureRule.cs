using System;
using System.Collections.Immutable;
using System.Linq;

namespace Scg.Verification.Quadrature;

/// <summary>
/// A Gauss quadrature rule: nodes tᵢ and weights wᵢ with ∫ f(t) ω(t) dt ≈ Σᵢ wᵢ f(tᵢ) for the rule's weight function ω,
/// exact for polynomials f of degree up to 2n − 1 (n the order).
/// </summary>
/// <param name="Name">What the rule integrates against ("Gauss–Hermite", "Gauss–Legendre").</param>
/// <param name="Nodes">The nodes tᵢ in increasing order.</param>
/// <param name="Weights">The weights wᵢ, all positive.</param>
public sealed record QuadratureRule(string Name, ImmutableArray<double> Nodes, ImmutableArray<double> Weights)
{
    /// <summary>The number of nodes.</summary>
    public int Order => Nodes.Length;

    /// <summary>Σᵢ wᵢ f(tᵢ).</summary>
    /// <param name="f">The integrand (without the weight function).</param>
    public double Integrate(Func<double, double> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        return Nodes.Zip(Weights, (t, w) => w * f(t)).Sum();
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name}, {Order} nodes";
}
