using System;
using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>
/// The exponential distribution with rate λ, element by element: density λ e^(−λx) on x ≥ 0.
/// Reparameterised: a draw is −log(U) / λ with U uniform on (0, 1].
/// </summary>
public sealed class Exponential : Distribution
{
    /// <summary>Creates Exponential(rate); the shape of <paramref name="rate"/> is the batch shape.</summary>
    /// <param name="rate">The rate λ (inverse mean); must be positive.</param>
    public Exponential(Tensor rate)
    {
        Check.RequireFloating(rate, nameof(rate));
        Rate = rate;
    }

    /// <summary>The rate λ, of the batch shape.</summary>
    public Tensor Rate { get; }

    /// <inheritdoc />
    public override string Name => "Exponential";

    /// <inheritdoc />
    public override long[] BatchShape => Rate.shape;

    /// <inheritdoc />
    public override long[] EventShape => [];

    /// <inheritdoc />
    public override bool IsReparameterized => true;

    /// <inheritdoc />
    public override Constraint Support => Constraints.NonNegative;

    /// <inheritdoc />
    public override Device Device => Rate.device;

    /// <inheritdoc />
    public override ScalarType DType => Rate.dtype;

    /// <inheritdoc />
    public override Tensor Sample(Generator? generator, params long[] sampleShape)
    {
        using var _ = no_grad();
        return RSample(generator, sampleShape);
    }

    /// <inheritdoc />
    public override Tensor RSample(Generator? generator, params long[] sampleShape)
    {
        using var u = Noise.UniformPositive(Shapes.Concat(sampleShape, BatchShape), DType, Device, generator);
        using var standard = u.log().neg_();
        return standard / Rate;
    }

    /// <inheritdoc />
    public override Tensor LogProb(Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        using var logRate = Rate.log();
        using var decay = Rate * value;
        return logRate - decay;
    }

    /// <inheritdoc />
    public override Distribution Expand(long[] batchShape) => new Exponential(Rate.expand(batchShape));

    /// <inheritdoc />
    public override string? ParameterError() => Check.Positive("rate", Rate);
}
