using System;
using System.Linq;
using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>
/// The normal distribution N(loc, scale²), element by element. Reparameterised: a draw is
/// <c>loc + scale · ε</c> with ε standard normal.
/// </summary>
public sealed class Normal : LocationScale
{
    private readonly bool _standard;

    /// <summary>Creates N(loc, scale²); the two tensors are broadcast together to give the batch shape.</summary>
    /// <param name="loc">The mean.</param>
    /// <param name="scale">The standard deviation; must be positive.</param>
    public Normal(Tensor loc, Tensor scale)
        : base(loc, scale)
    {
    }

    /// <summary>A Normal over views this class made itself (<see cref="Standard"/>, <see cref="Expand"/>, detached copies): kept as they are.</summary>
    private Normal(Tensor loc, Tensor scale, bool standard)
        : base(loc, scale, owned: true) => _standard = standard;

    /// <summary>
    /// The standard normal N(0, 1) for every element of <paramref name="batchShape"/> (a prior over latent codes): the
    /// distribution <c>new Normal(zeros, ones)</c> gives, whose log-density −½ x² − ½ log 2π is computed without
    /// subtracting a location or dividing by a scale.
    /// </summary>
    /// <param name="batchShape">The batch shape (empty for one scalar; a plate expands it).</param>
    /// <param name="dtype">The floating-point dtype of draws and log-densities.</param>
    /// <param name="device">The device of draws and log-densities; the CPU when null.</param>
    public static Normal Standard(long[] batchShape, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(batchShape);
        if (batchShape.Any(d => d < 0))
            throw new ArgumentException($"Normal.Standard: the batch shape [{Shapes.Format(batchShape)}] has a negative size.", nameof(batchShape));
        if (dtype is not (ScalarType.Float32 or ScalarType.Float64 or ScalarType.Float16 or ScalarType.BFloat16))
            throw new ArgumentException($"Normal.Standard: the dtype must be floating point, not {dtype}.", nameof(dtype));
        return new Normal(ScalarTensors.Expanded(0, batchShape, dtype, device), ScalarTensors.Expanded(1, batchShape, dtype, device), standard: true);
    }

    /// <summary>True for <see cref="Standard"/>: location 0 and scale 1 by construction.</summary>
    public bool IsStandard => _standard;

    /// <inheritdoc />
    public override string Name => "Normal";

    /// <inheritdoc />
    public override Constraint Support => Constraints.Real;

    /// <inheritdoc />
    public override Tensor RSample(Generator? generator, params long[] sampleShape)
    {
        var eps = Noise.StandardNormal(Shapes.Concat(sampleShape, BatchShape), DType, Device, generator);
        if (_standard) return eps;
        using (eps) return Loc.addcmul(Scale, eps, Constants.One);
    }

    /// <inheritdoc />
    public override Tensor LogProb(Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (_standard) return StandardLogProb(value);
        using var difference = value - Loc;
        using var z = difference / Scale;
        // −(log σ + ½ z² + ½ log 2π): one new tensor of the broadcast shape (addcmul), then in place, since neither add_
        // nor neg_ needs the tensor it overwrites for its backward pass
        using var logScale = Scale.log();
        var result = logScale.addcmul(z, z, Constants.Half);
        result.add_(Constants.HalfLog2Pi);
        return result.neg_();
    }

    /// <summary>
    /// −½ x² − ½ log 2π: one new tensor, then in place (the square's backward needs its input, not its output). The result
    /// has the shape and dtype <c>new Normal(zeros, ones)</c> would give: the broadcast of the value's shape and the batch
    /// shape, and the promotion of the value's dtype and the distribution's (an integer value is scored as a float).
    /// </summary>
    private Tensor StandardLogProb(Tensor value)
    {
        var shape = value.shape;
        var batch = BatchShape;
        if (!Shapes.Broadcasts(shape, batch))
            throw new ArgumentException(
                $"Normal.Standard: a value of shape [{Shapes.Format(shape)}] does not broadcast with the batch shape [{Shapes.Format(batch)}].", nameof(value));
        var target = Shapes.Broadcast(shape, batch);
        var (own, valueType) = (DType, value.dtype);
        var dtype = valueType == own ? own : promote_types(valueType, own);
        var converted = dtype == valueType ? value : value.to_type(dtype);
        Tensor square;
        if (Shapes.Equal(shape, target)) square = converted.square();
        else using (var expanded = converted.expand(target)) square = expanded.square();
        if (!ReferenceEquals(converted, value)) converted.Dispose();
        return square.mul_(Constants.MinusHalf).sub_(Constants.HalfLog2Pi);
    }

    internal override Distribution? WithDetachedParameters() => _standard ? this : new Normal(Loc.detach(), Scale.detach(), standard: false);

    /// <inheritdoc />
    public override Distribution Expand(long[] batchShape) => new Normal(Loc.expand(batchShape), Scale.expand(batchShape), _standard);
}
