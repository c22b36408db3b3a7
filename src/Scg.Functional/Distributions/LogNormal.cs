using System;
using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>
/// The log-normal distribution, element by element: x = exp(y) with y ~ N(loc, scale²). Reparameterised: a
/// draw is <c>exp(loc + scale · ε)</c> with ε standard normal.
/// </summary>
public sealed class LogNormal : Distribution
{
    private static readonly double HalfLog2Pi = 0.5 * Math.Log(2 * Math.PI);

    /// <summary>Creates LogNormal(loc, scale); the two tensors are broadcast together to give the batch shape.</summary>
    /// <param name="loc">The mean of log x.</param>
    /// <param name="scale">The standard deviation of log x; must be positive.</param>
    public LogNormal(Tensor loc, Tensor scale)
    {
        Check.RequireFloating(loc, nameof(loc));
        Check.RequireFloating(scale, nameof(scale));
        var shape = Shapes.Broadcast(loc.shape, scale.shape);
        Loc = loc.expand(shape);
        Scale = scale.expand(shape);
    }

    /// <summary>The mean of log x, broadcast to the batch shape.</summary>
    public Tensor Loc { get; }

    /// <summary>The standard deviation of log x, broadcast to the batch shape.</summary>
    public Tensor Scale { get; }

    /// <inheritdoc />
    public override string Name => "LogNormal";

    /// <inheritdoc />
    public override long[] BatchShape => Loc.shape;

    /// <inheritdoc />
    public override long[] EventShape => [];

    /// <inheritdoc />
    public override bool IsReparameterized => true;

    /// <inheritdoc />
    public override Constraint Support => Constraints.Positive;

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
        using var quadratic = z.square().mul_(-0.5);
        using var logScale = Scale.log();
        return quadratic - logScale - logValue - HalfLog2Pi;
    }

    /// <inheritdoc />
    public override Distribution Expand(long[] batchShape) => new LogNormal(Loc.expand(batchShape), Scale.expand(batchShape));

    /// <inheritdoc />
    public override string? ParameterError() =>
        Check.Finite("loc", Loc) ?? Check.Positive("scale", Scale);
}
