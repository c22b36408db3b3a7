using System;
using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>
/// The log-normal distribution, element by element: x = exp(y) with y ~ N(loc, scale²). Reparameterised: a
/// draw is <c>exp(loc + scale · ε)</c> with ε standard normal.
/// </summary>
public sealed class LogNormal : LocationScale
{
    /// <summary>Creates LogNormal(loc, scale); the two tensors are broadcast together to give the batch shape.</summary>
    /// <param name="loc">The mean of log x.</param>
    /// <param name="scale">The standard deviation of log x; must be positive.</param>
    public LogNormal(Tensor loc, Tensor scale)
        : base(loc, scale)
    {
    }

    /// <inheritdoc />
    public override string Name => "LogNormal";

    /// <inheritdoc />
    public override Constraint Support => Constraints.Positive;

    /// <inheritdoc />
    public override Tensor RSample(Generator? generator, params long[] sampleShape)
    {
        using var eps = Noise.StandardNormal(Shapes.Concat(sampleShape, BatchShape), DType, Device, generator);
        using var spread = Scale * eps;
        using var logValue = Loc + spread;
        return logValue.exp();
    }

    /// <inheritdoc />
    /// <remarks>The normal log-density of log x minus log x (the Jacobian of the exponential).</remarks>
    public override Tensor LogProb(Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        using var logValue = value.log();
        using var z = (logValue - Loc) / Scale;
        using var quadratic = z.square().mul_(Constants.MinusHalf);
        using var logScale = Scale.log();
        using var difference = quadratic - logScale - logValue;
        return difference - Constants.HalfLog2Pi;
    }

    /// <inheritdoc />
    public override Distribution Expand(long[] batchShape) => new LogNormal(Loc.expand(batchShape), Scale.expand(batchShape));
}
