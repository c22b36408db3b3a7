using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>
/// The shared shape of the reparameterised location–scale families (Normal, LogNormal, Laplace): a location
/// and a positive scale broadcast together into the batch shape, scalar events, and draws that are a
/// differentiable transform of parameter-free noise.
/// </summary>
public abstract class LocationScale : Distribution
{
    /// <summary>Broadcasts <paramref name="loc"/> and <paramref name="scale"/> together.</summary>
    /// <param name="loc">The location.</param>
    /// <param name="scale">The scale; must be positive.</param>
    protected LocationScale(Tensor loc, Tensor scale)
        : this(loc, scale, owned: false)
    {
    }

    /// <summary>
    /// As <see cref="LocationScale(Tensor, Tensor)"/>; with <paramref name="owned"/>, tensors the family made itself (views
    /// of its own) are kept as they are instead of getting a handle of their own.
    /// </summary>
    private protected LocationScale(Tensor loc, Tensor scale, bool owned)
    {
        Check.RequireFloating(loc, nameof(loc));
        Check.RequireFloating(scale, nameof(scale));
        var shape = Shapes.BroadcastParameters(Name, "loc", loc, "scale", scale, out var locShape, out var scaleShape);
        // a handle of our own (an alias of a caller's parameter that already has the batch shape, else an expand view), so
        // that the caller may dispose theirs
        Loc = Shapes.Equal(locShape, shape) ? owned ? loc : loc.alias() : loc.expand(shape);
        Scale = Shapes.Equal(scaleShape, shape) ? owned ? scale : scale.alias() : scale.expand(shape);
        _batchShape = shape;
        _dtype = Loc.dtype;
    }

    private readonly long[] _batchShape;   // read once: a shape query crosses into native code
    private readonly ScalarType _dtype;

    /// <summary>The location, broadcast to the batch shape.</summary>
    public Tensor Loc { get; }

    /// <summary>The scale, broadcast to the batch shape.</summary>
    public Tensor Scale { get; }

    /// <inheritdoc />
    public sealed override long[] BatchShape => (long[])_batchShape.Clone();

    /// <inheritdoc />
    public sealed override long[] EventShape => [];

    /// <inheritdoc />
    public sealed override bool IsReparameterized => true;

    /// <inheritdoc />
    public sealed override Device Device => Loc.device;

    /// <inheritdoc />
    public sealed override ScalarType DType => _dtype;

    /// <inheritdoc />
    public sealed override Tensor Sample(Generator? generator, params long[] sampleShape)
    {
        using var _ = no_grad();
        return RSample(generator, sampleShape);
    }

    /// <inheritdoc />
    public abstract override Tensor RSample(Generator? generator, params long[] sampleShape);

    /// <inheritdoc />
    public override string? ParameterError() =>
        Check.Finite("loc", Loc) ?? Check.Positive("scale", Scale);
}
