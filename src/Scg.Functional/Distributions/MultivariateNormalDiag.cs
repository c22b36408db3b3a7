using System;
using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>
/// The multivariate normal distribution with a diagonal covariance: event shape [D] (the last parameter
/// dimension), batch shape the dimensions before it. Reparameterised: a draw is <c>loc + scaleDiag ⊙ ε</c>
/// with ε standard normal.
/// </summary>
public sealed class MultivariateNormalDiag : Distribution
{
    /// <summary>Creates the distribution; the two tensors are broadcast together and need at least one dimension.</summary>
    /// <param name="loc">The mean vectors, of shape batch ++ [D].</param>
    /// <param name="scaleDiag">The standard deviations per coordinate (the square roots of the covariance diagonal); must be positive.</param>
    public MultivariateNormalDiag(Tensor loc, Tensor scaleDiag)
    {
        Check.RequireFloating(loc, nameof(loc));
        Check.RequireFloating(scaleDiag, nameof(scaleDiag));
        var shape = Shapes.BroadcastParameters(Name, "loc", loc, "scaleDiag", scaleDiag);
        if (shape.Length == 0)
            throw new ArgumentException("loc and scaleDiag must have at least one dimension (the last is the event).", nameof(loc));
        Loc = loc.expand(shape);
        ScaleDiag = scaleDiag.expand(shape);
    }

    /// <summary>The mean vectors, of shape batch ++ [D].</summary>
    public Tensor Loc { get; }

    /// <summary>The standard deviations per coordinate, of shape batch ++ [D].</summary>
    public Tensor ScaleDiag { get; }

    /// <inheritdoc />
    public override string Name => "MultivariateNormalDiag";

    /// <inheritdoc />
    public override long[] BatchShape => Loc.shape[..^1];

    /// <inheritdoc />
    public override long[] EventShape => [Loc.shape[^1]];

    /// <inheritdoc />
    public override bool IsReparameterized => true;

    /// <inheritdoc />
    public override Constraint Support => Constraints.Real;

    /// <inheritdoc />
    public override Device Device => Loc.device;

    /// <inheritdoc />
    public override ScalarType DType => Loc.dtype;

    /// <inheritdoc />
    public override Tensor Sample(Generator? generator, params long[] sampleShape)
    {
        using var _ = no_grad();
        return RSample(generator, sampleShape);
    }

    /// <inheritdoc />
    public override Tensor RSample(Generator? generator, params long[] sampleShape)
    {
        using var eps = Noise.StandardNormal(Shapes.Concat(sampleShape, Loc.shape), DType, Device, generator);
        using var spread = ScaleDiag * eps;
        return Loc + spread;
    }

    /// <inheritdoc />
    public override Tensor LogProb(Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        using var z = (value - Loc) / ScaleDiag;
        using var quadratic = z.square().mul_(Constants.MinusHalf);
        using var logScale = ScaleDiag.log();
        using var perCoordinate = quadratic - logScale;
        using var total = perCoordinate.sum(-1);
        return total - EventShape[0] * Constants.HalfLog2PiValue;
    }

    /// <inheritdoc />
    public override Distribution Expand(long[] batchShape)
    {
        var full = Shapes.Concat(batchShape, EventShape);
        return new MultivariateNormalDiag(Loc.expand(full), ScaleDiag.expand(full));
    }

    /// <inheritdoc />
    public override string? ParameterError() =>
        Check.Finite("loc", Loc) ?? Check.Positive("scaleDiag", ScaleDiag);
}
