using System;
using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>
/// The Laplace distribution, element by element: density e^(−|x − loc| / scale) / (2 scale). Reparameterised
/// by the inverse distribution function: a draw is <c>loc − scale · sign(v) · log(1 − |v|)</c> with v uniform
/// on the open interval (−1, 1).
/// </summary>
public sealed class Laplace : LocationScale
{
    /// <summary>Creates Laplace(loc, scale); the two tensors are broadcast together to give the batch shape.</summary>
    /// <param name="loc">The location (mean and median).</param>
    /// <param name="scale">The scale b (the variance is 2b²); must be positive.</param>
    public Laplace(Tensor loc, Tensor scale)
        : base(loc, scale)
    {
    }

    /// <inheritdoc />
    public override string Name => "Laplace";

    /// <inheritdoc />
    public override Constraint Support => Constraints.Real;

    /// <inheritdoc />
    public override Tensor RSample(Generator? generator, params long[] sampleShape)
    {
        using var u = Noise.Uniform(Shapes.Concat(sampleShape, BatchShape), DType, Device, generator);
        // v = 2u − 1 lies in [−1, 1); lifting −1 by one ulp keeps log(1 − |v|) finite.
        using var v = u.mul(2.0).sub_(1.0).clamp_min_(-1.0 + finfo(DType).eps);
        using var magnitude = v.abs().neg_().log1p_();
        using var standard = v.sign().mul_(magnitude).neg_();
        using var spread = Scale * standard;
        return Loc + spread;
    }

    /// <inheritdoc />
    public override Tensor LogProb(Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        using var distance = (value - Loc).abs();
        using var scaled = distance / Scale;
        using var logTwoScale = Scale.mul(2.0).log();
        return scaled.neg() - logTwoScale;
    }

    /// <inheritdoc />
    public override Distribution Expand(long[] batchShape) => new Laplace(Loc.expand(batchShape), Scale.expand(batchShape));
}
