using System;
using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>
/// The gamma distribution with shape (concentration) α and rate β, element by element: density
/// β^α x^(α−1) e^(−βx) / Γ(α) on x &gt; 0. Not reparameterised here (score-function gradients only).
/// </summary>
public sealed class Gamma : Distribution
{
    /// <summary>Creates Gamma(concentration, rate); the two tensors are broadcast together to give the batch shape.</summary>
    /// <param name="concentration">The shape α; must be positive.</param>
    /// <param name="rate">The rate β (inverse scale); must be positive.</param>
    public Gamma(Tensor concentration, Tensor rate)
    {
        Check.RequireFloating(concentration, nameof(concentration));
        Check.RequireFloating(rate, nameof(rate));
        var shape = Shapes.BroadcastParameters(Name, "concentration", concentration, "rate", rate);
        Concentration = concentration.expand(shape);
        Rate = rate.expand(shape);
    }

    /// <summary>The shape α, broadcast to the batch shape.</summary>
    public Tensor Concentration { get; }

    /// <summary>The rate β, broadcast to the batch shape.</summary>
    public Tensor Rate { get; }

    /// <inheritdoc />
    public override string Name => "Gamma";

    /// <inheritdoc />
    public override long[] BatchShape => Concentration.shape;

    /// <inheritdoc />
    public override long[] EventShape => [];

    /// <inheritdoc />
    public override bool IsReparameterized => false;

    /// <inheritdoc />
    public override Constraint Support => Constraints.Positive;

    /// <inheritdoc />
    public override Device Device => Concentration.device;

    /// <inheritdoc />
    public override ScalarType DType => Concentration.dtype;

    /// <inheritdoc />
    /// <remarks>Standard gamma draws divided by the rate, floored at the dtype's smallest normal number so they stay positive.</remarks>
    public override Tensor Sample(Generator? generator, params long[] sampleShape)
    {
        using var _ = no_grad();
        using var conc = Concentration.detach().expand(Shapes.Concat(sampleShape, BatchShape));
        using var standard = Noise.StandardGamma(conc, generator);
        using var scaled = standard / Rate.detach();
        return scaled.clamp_min(finfo(DType).tiny);
    }

    /// <inheritdoc />
    public override Tensor LogProb(Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        using var alphaLogBeta = xlogy(Concentration, Rate);
        using var powerTerm = xlogy(Concentration - 1.0, value);
        using var rateTerm = Rate * value;
        using var normaliser = Concentration.lgamma();
        return alphaLogBeta + powerTerm - rateTerm - normaliser;
    }

    /// <inheritdoc />
    public override Distribution Expand(long[] batchShape) =>
        new Gamma(Concentration.expand(batchShape), Rate.expand(batchShape));

    /// <inheritdoc />
    public override string? ParameterError() =>
        Check.Positive("concentration", Concentration) ?? Check.Positive("rate", Rate);
}
