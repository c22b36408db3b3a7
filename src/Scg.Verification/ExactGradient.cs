using System.Collections.Immutable;
using System.Linq;

namespace Scg.Verification;

/// <summary>An exact expectation and its gradient, one entry per parameter element.</summary>
/// <param name="Value">E[total cost].</param>
/// <param name="Gradient">∂E/∂θ per parameter element, in the parameters' order.</param>
public sealed record ExactGradient(double Value, ImmutableArray<ParameterElement> Gradient)
{
    /// <summary>The gradient as a plain array, in order.</summary>
    public double[] ToArray() => [.. Gradient.Select(g => g.Value)];

    /// <inheritdoc />
    public override string ToString() => $"E = {Value:G8}; ∇ = ({string.Join(", ", Gradient)})";
}
