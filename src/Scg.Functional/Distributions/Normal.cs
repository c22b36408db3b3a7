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
        using var difference = value - Loc;
        using var z = difference / Scale;
        // −(log σ + ½ z² + ½ log 2π): one new tensor of the broadcast shape (addcmul), then in place, since neither add_
        // nor neg_ needs the tensor it overwrites for its backward pass
        using var logScale = Scale.log();
        var result = logScale.addcmul(z, z, Constants.Half);
        result.add_(Constants.HalfLog2Pi);
        return result.neg_();
    }

    internal override Distribution? WithDetachedParameters() => new Normal(Loc.detach(), Scale.detach());

    /// <inheritdoc />
    public override Distribution Expand(long[] batchShape) => new Normal(Loc.expand(batchShape), Scale.expand(batchShape));
}
