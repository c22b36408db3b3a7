using System;
using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>
/// The beta distribution on the unit interval, element by element: density x^(a−1) (1−x)^(b−1) / B(a, b).
/// Draws are G₁ / (G₁ + G₂) with independent gamma draws G₁ ~ Gamma(a, 1), G₂ ~ Gamma(b, 1).
/// Not reparameterised here (score-function gradients only).
/// </summary>
public sealed class Beta : Distribution
{
    /// <summary>Creates Beta(concentration1, concentration0); the two tensors are broadcast together to give the batch shape.</summary>
    /// <param name="concentration1">The exponent a attached to x; must be positive.</param>
    /// <param name="concentration0">The exponent b attached to 1 − x; must be positive.</param>
    public Beta(Tensor concentration1, Tensor concentration0)
    {
        Check.RequireFloating(concentration1, nameof(concentration1));
        Check.RequireFloating(concentration0, nameof(concentration0));
        var shape = Shapes.BroadcastParameters(Name, "concentration1", concentration1, "concentration0", concentration0);
        Concentration1 = concentration1.expand(shape);
        Concentration0 = concentration0.expand(shape);
    }

    /// <summary>The exponent a (the pseudo-count of ones), broadcast to the batch shape.</summary>
    public Tensor Concentration1 { get; }

    /// <summary>The exponent b (the pseudo-count of zeros), broadcast to the batch shape.</summary>
    public Tensor Concentration0 { get; }

    /// <inheritdoc />
    public override string Name => "Beta";

    /// <inheritdoc />
    public override long[] BatchShape => Concentration1.shape;

    /// <inheritdoc />
    public override long[] EventShape => [];

    /// <inheritdoc />
    public override bool IsReparameterized => false;

    /// <inheritdoc />
    public override Constraint Support => Constraints.UnitInterval;

    /// <inheritdoc />
    public override Device Device => Concentration1.device;

    /// <inheritdoc />
    public override ScalarType DType => Concentration1.dtype;

    /// <inheritdoc />
    /// <remarks>Draws are kept inside the open interval (0, 1) by clamping to [tiny, 1 − ε] of the dtype.</remarks>
    public override Tensor Sample(Generator? generator, params long[] sampleShape)
    {
        using var _ = no_grad();
        var shape = Shapes.Concat(sampleShape, BatchShape);
        using var a = Concentration1.detach().expand(shape);
        using var b = Concentration0.detach().expand(shape);
        using var ga = Noise.StandardGamma(a, generator);
        using var gb = Noise.StandardGamma(b, generator);
        using var total = ga + gb;
        using var ratio = ga / total;
        var info = finfo(DType);
        return ratio.clamp(info.tiny, 1.0 - info.eps);
    }

    /// <inheritdoc />
    public override Tensor LogProb(Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        using var onesTerm = xlogy(Concentration1 - 1.0, value);
        using var zerosTerm = special.xlog1py(Concentration0 - 1.0, value.neg());
        using var logBeta = LogBetaFunction(Concentration1, Concentration0);
        return onesTerm + zerosTerm - logBeta;
    }

    /// <inheritdoc />
    public override Distribution Expand(long[] batchShape) =>
        new Beta(Concentration1.expand(batchShape), Concentration0.expand(batchShape));

    /// <inheritdoc />
    public override string? ParameterError() =>
        Check.Positive("concentration1", Concentration1) ?? Check.Positive("concentration0", Concentration0);

    private static Tensor LogBetaFunction(Tensor a, Tensor b)
    {
        using var sum = a + b;
        return a.lgamma() + b.lgamma() - sum.lgamma();
    }
}
