using System;
using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>
/// The Poisson distribution with rate λ, element by element: mass λ^x e^(−λ) / x! on x = 0, 1, 2, ….
/// Values are whole numbers in the parameter dtype. Not reparameterised.
/// </summary>
public sealed class Poisson : Distribution
{
    /// <summary>Creates Poisson(rate); the shape of <paramref name="rate"/> is the batch shape.</summary>
    /// <param name="rate">The rate λ (the mean); must be non-negative (zero gives a point mass at 0).</param>
    public Poisson(Tensor rate)
    {
        Check.RequireFloating(rate, nameof(rate));
        Rate = rate;
    }

    /// <summary>The rate λ, of the batch shape.</summary>
    public Tensor Rate { get; }

    /// <inheritdoc />
    public override string Name => "Poisson";

    /// <inheritdoc />
    public override long[] BatchShape => Rate.shape;

    /// <inheritdoc />
    public override long[] EventShape => [];

    /// <inheritdoc />
    public override bool IsReparameterized => false;

    /// <inheritdoc />
    public override Constraint Support => Constraints.NonNegativeInteger;

    /// <inheritdoc />
    public override Device Device => Rate.device;

    /// <inheritdoc />
    public override ScalarType DType => Rate.dtype;

    /// <inheritdoc />
    public override Tensor Sample(Generator? generator, params long[] sampleShape)
    {
        using var _ = no_grad();
        using var rate = Rate.detach().expand(Shapes.Concat(sampleShape, BatchShape));
        return Noise.Poisson(rate, generator);
    }

    /// <inheritdoc />
    /// <remarks>
    /// At rate 0 the value 0 has log probability exactly 0 and the gradient −1 with respect to the rate (the
    /// term x log λ is left out where x = 0, so it contributes no 0 / 0); any other value is impossible there:
    /// −∞ with an infinite gradient.
    /// </remarks>
    public override Tensor LogProb(Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        Tensor isZero;
        using (no_grad()) isZero = value.eq(0);
        using var _ = isZero;
        using var rateForLog = Rate.masked_fill(isZero, 1.0);
        using var logRate = rateForLog.log();
        using var power = value * logRate;
        using var next = value + 1.0;
        using var logFactorial = next.lgamma();
        return power - Rate - logFactorial;
    }

    /// <inheritdoc />
    public override Distribution Expand(long[] batchShape) => new Poisson(Rate.expand(batchShape));

    /// <inheritdoc />
    public override string? ParameterError() => Check.NonNegative("rate", Rate);
}
