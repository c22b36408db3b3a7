using System;
using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>
/// The normal distribution N(loc, scale²), element by element. Reparameterised: a draw is
/// <c>loc + scale · ε</c> with ε standard normal.
/// </summary>
public sealed class Normal : LocationScale
{
    /// <summary>Creates N(loc, scale²); the two tensors are broadcast together to give the batch shape.</summary>
    /// <param name="loc">The mean.</param>
    /// <param name="scale">The standard deviation; must be positive.</param>
    public Normal(Tensor loc, Tensor scale)
        : base(loc, scale)
    {
    }

    /// <inheritdoc />
    public override string Name => "Normal";

    /// <inheritdoc />
    public override Constraint Support => Constraints.Real;

    /// <inheritdoc />
    public override Tensor RSample(Generator? generator, params long[] sampleShape)
    {
        using var eps = Noise.StandardNormal(Shapes.Concat(sampleShape, BatchShape), DType, Device, generator);
        return Loc + Scale * eps;
    }

    /// <inheritdoc />
    public override Tensor LogProb(Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var z = (value - Loc) / Scale;
        using var square = z.square();
        using var quadratic = square.mul(Constants.MinusHalf);
        using var logScale = Scale.log();
        var difference = quadratic - logScale;
        return difference.sub_(Constants.HalfLog2Pi); // in place: the result is this new tensor
    }

    internal override Distribution? WithDetachedParameters() => new Normal(Loc.detach(), Scale.detach());

    /// <inheritdoc />
    public override Distribution Expand(long[] batchShape) => new Normal(Loc.expand(batchShape), Scale.expand(batchShape));
}
