using System;
using System.Linq;
using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>
/// The categorical distribution over the indices 0 … K − 1 of the last parameter dimension. Values are int64
/// indices of the batch shape (the parameter shape without its last dimension). Not reparameterised.
/// </summary>
public sealed class Categorical : Distribution
{
    private readonly Tensor? _probs;
    private readonly Tensor _rawLogits;

    private Categorical(Tensor rawLogits, Tensor? probs)
    {
        _rawLogits = rawLogits;
        _probs = probs;
        Logits = rawLogits.log_softmax(-1);
    }

    /// <summary>Creates a categorical distribution from unnormalised log-probabilities.</summary>
    /// <param name="logits">Log-probabilities up to an additive constant per vector; the last dimension holds the K categories. −∞ excludes a category.</param>
    public static Categorical FromLogits(Tensor logits)
    {
        Check.RequireFloating(logits, "logits");
        Check.RequireVector(logits, "logits");
        return new Categorical(logits, null);
    }

    /// <summary>Creates a categorical distribution from probabilities.</summary>
    /// <param name="probs">Probability vectors along the last dimension (non-negative, summing to one).</param>
    public static Categorical FromProbs(Tensor probs)
    {
        Check.RequireFloating(probs, "probs");
        Check.RequireVector(probs, "probs");
        return new Categorical(probs.log(), probs);
    }

    /// <summary>The normalised log-probabilities, of shape batch ++ [K].</summary>
    public Tensor Logits { get; }

    /// <summary>The probabilities, of shape batch ++ [K] (the softmax of <see cref="Logits"/>).</summary>
    public Tensor Probs => Logits.exp();

    /// <summary>The number of categories K.</summary>
    public long Categories => Logits.shape[^1];

    /// <inheritdoc />
    public override string Name => "Categorical";

    /// <inheritdoc />
    public override long[] BatchShape => Logits.shape[..^1];

    /// <inheritdoc />
    public override long[] EventShape => [];

    /// <inheritdoc />
    public override bool IsReparameterized => false;

    /// <inheritdoc />
    public override Constraint Support => Constraints.IntegerInterval(0, Categories - 1);

    /// <inheritdoc />
    public override Device Device => Logits.device;

    /// <inheritdoc />
    public override ScalarType DType => Logits.dtype;

    /// <inheritdoc />
    /// <remarks>Values are int64 indices.</remarks>
    public override Tensor Sample(Generator? generator, params long[] sampleShape)
    {
        using var _ = no_grad();
        var batch = BatchShape;
        var count = sampleShape.Aggregate(1L, (a, b) => a * b);
        using var probs = Logits.detach().exp();
        using var rows = probs.reshape(-1, Categories);
        using var drawn = Noise.Multinomial(rows, count, generator);   // [rows, count]
        using var sampleFirst = drawn.t();                              // [count, rows]
        return sampleFirst.reshape(Shapes.Concat(sampleShape, batch));
    }

    /// <inheritdoc />
    /// <param name="value">int64 category indices whose shape broadcasts with the batch shape.</param>
    public override Tensor LogProb(Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var shape = Shapes.Broadcast(value.shape, BatchShape);
        using var index = value.to_type(ScalarType.Int64).expand(shape).unsqueeze(-1);
        using var logits = Logits.expand(Shapes.Concat(shape, [Categories]));
        using var picked = logits.gather(-1, index);
        return picked.squeeze(-1);
    }

    /// <inheritdoc />
    public override Distribution Expand(long[] batchShape)
    {
        var full = Shapes.Concat(batchShape, [Categories]);
        return new Categorical(_rawLogits.expand(full), _probs?.expand(full));
    }

    /// <inheritdoc />
    public override string? ParameterError() =>
        _probs is null
            ? Check.FiniteOrNegativeInfinity("logits", _rawLogits) ?? Check.SomeFinite("logits", _rawLogits)
            : Check.Simplex("probs", _probs);
}
