using System;
using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>
/// The continuous uniform distribution on [low, high), element by element. Reparameterised: a draw is
/// <c>low + (high − low) · U</c> with U uniform on [0, 1).
/// </summary>
public sealed class Uniform : Distribution
{
    /// <summary>Creates Uniform(low, high); the two tensors are broadcast together to give the batch shape.</summary>
    /// <param name="low">The lower end (included).</param>
    /// <param name="high">The upper end (excluded); must exceed <paramref name="low"/>.</param>
    public Uniform(Tensor low, Tensor high)
    {
        Check.RequireFloating(low, nameof(low));
        Check.RequireFloating(high, nameof(high));
        var shape = Shapes.BroadcastParameters(Name, "low", low, "high", high);
        Low = low.expand(shape);
        High = high.expand(shape);
    }

    /// <summary>The lower end, broadcast to the batch shape.</summary>
    public Tensor Low { get; }

    /// <summary>The upper end, broadcast to the batch shape.</summary>
    public Tensor High { get; }

    /// <inheritdoc />
    public override string Name => "Uniform";

    /// <inheritdoc />
    public override long[] BatchShape => Low.shape;

    /// <inheritdoc />
    public override long[] EventShape => [];

    /// <inheritdoc />
    public override bool IsReparameterized => true;

    /// <inheritdoc />
    public override Constraint Support => Constraints.Interval(Low, High);

    /// <inheritdoc />
    /// <remarks>True: the support [low, high) moves with both parameters.</remarks>
    public override bool SupportDependsOnParameters => true;

    /// <inheritdoc />
    public override Device Device => Low.device;

    /// <inheritdoc />
    public override ScalarType DType => Low.dtype;

    /// <inheritdoc />
    public override Tensor Sample(Generator? generator, params long[] sampleShape)
    {
        using var _ = no_grad();
        return RSample(generator, sampleShape);
    }

    /// <inheritdoc />
    public override Tensor RSample(Generator? generator, params long[] sampleShape)
    {
        using var u = Noise.Uniform(Shapes.Concat(sampleShape, BatchShape), DType, Device, generator);
        using var width = High - Low;
        using var offset = width * u;
        return Low + offset;
    }

    /// <inheritdoc />
    /// <remarks>−log(high − low) inside [low, high), −∞ outside.</remarks>
    public override Tensor LogProb(Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        using var width = High - Low;
        using var inside = value.ge(Low).logical_and(value.lt(High));
        using var logWidth = width.log();
        using var density = logWidth.neg();
        using var outside = full_like(density, double.NegativeInfinity);
        return where(inside, density, outside);
    }

    /// <inheritdoc />
    public override Distribution Expand(long[] batchShape) => new Uniform(Low.expand(batchShape), High.expand(batchShape));

    /// <inheritdoc />
    public override string? ParameterError() =>
        Check.Finite("low", Low) ?? Check.Finite("high", High) ?? Check.Less("low", Low, "high", High);
}
