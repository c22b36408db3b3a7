using System;
using System.Linq;
using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>
/// The categorical distribution over the indices 0 … K − 1 of the last parameter dimension. Values are int64
/// indices of the batch shape (the parameter shape without its last dimension). Not reparameterised.
/// </summary>
/// <remarks>
/// The distribution keeps the tensor it was given (logits or probabilities) and normalises it when it is used,
/// so the autograd graph of one run never holds a tensor computed when the distribution was built: a model
/// holding it can be run and back-propagated any number of times.
/// </remarks>
public sealed class Categorical : Distribution
{
    private readonly Tensor? _logits;
    private readonly Tensor? _probs;
    private readonly bool _uniform;
    private readonly long[] _shape;   // the parameter's shape, read once: a shape query crosses into native code

    private Categorical(Tensor? logits, Tensor? probs, bool uniform = false)
    {
        _logits = logits;
        _probs = probs;
        _uniform = uniform;
        _shape = (logits ?? probs)!.shape;
    }

    /// <summary>
    /// The uniform distribution over <paramref name="categories"/> categories for every element of
    /// <paramref name="batchShape"/>: the distribution <c>FromLogits(zeros)</c> gives, whose log-probability is the
    /// constant −log K, filled in without normalising or indexing (a uniform prior over classes or mixture components).
    /// </summary>
    /// <param name="categories">The number of categories K, at least one.</param>
    /// <param name="batchShape">The batch shape (empty for one draw; a plate expands it).</param>
    /// <param name="dtype">The floating-point dtype of the log-probabilities.</param>
    /// <param name="device">The device of the draws and log-probabilities; the CPU when null.</param>
    public static Categorical Uniform(long categories, long[] batchShape, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(batchShape);
        if (categories < 1)
            throw new ArgumentOutOfRangeException(nameof(categories), categories, "Categorical.Uniform needs at least one category.");
        if (batchShape.Any(d => d < 0))
            throw new ArgumentException($"Categorical.Uniform: the batch shape [{Shapes.Format(batchShape)}] has a negative size.", nameof(batchShape));
        if (dtype is not (ScalarType.Float32 or ScalarType.Float64 or ScalarType.Float16 or ScalarType.BFloat16))
            throw new ArgumentException($"Categorical.Uniform: the dtype must be floating point, not {dtype}.", nameof(dtype));
        return new Categorical(ScalarTensors.Expanded(0, Shapes.Concat(batchShape, [categories]), dtype, device), null, uniform: true);
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
    /// <param name="probs">
    /// Probability vectors along the last dimension (non-negative, summing to one). Zero entries are allowed,
    /// also where they come from underflow (a softmax): the log probability of a category with positive
    /// probability has a finite gradient; a category of probability zero has log probability −∞.
    /// </param>
    public static Categorical FromProbs(Tensor probs)
    {
        Check.RequireFloating(probs, "probs");
        Check.RequireVector(probs, "probs");
        return new Categorical(null, probs);
    }

    /// <summary>
    /// The normalised log-probabilities, of shape batch ++ [K], computed on each access (from probabilities:
    /// log p − log Σp, which is −∞ with an infinite gradient where p is zero).
    /// </summary>
    public Tensor Logits
    {
        get
        {
            if (_logits is not null) return _logits.log_softmax(-1);
            using var total = _probs!.sum(-1, keepdim: true);
            using var logTotal = total.log();
            using var logProbs = _probs.log();
            return logProbs - logTotal;
        }
    }

    /// <summary>The probabilities, of shape batch ++ [K], normalised on each access.</summary>
    public Tensor Probs
    {
        get
        {
            if (_logits is not null) return _logits.softmax(-1);
            using var total = _probs!.sum(-1, keepdim: true);
            return _probs / total;
        }
    }

    private Tensor Given => _logits ?? _probs!;

    /// <summary>The number of categories K.</summary>
    public long Categories => _shape[^1];

    /// <inheritdoc />
    public override string Name => "Categorical";

    /// <inheritdoc />
    public override long[] BatchShape => _shape[..^1];

    /// <inheritdoc />
    public override long[] EventShape => [];

    /// <inheritdoc />
    public override bool IsReparameterized => false;

    /// <inheritdoc />
    public override Constraint Support => Constraints.IntegerInterval(0, Categories - 1);

    /// <inheritdoc />
    public override Device Device => Given.device;

    /// <inheritdoc />
    public override ScalarType DType => Given.dtype;

    /// <inheritdoc />
    /// <remarks>The indices 0 … K − 1 (int64).</remarks>
    public override Tensor? EnumerateSupport() => arange(Categories, ScalarType.Int64, Device);

    /// <inheritdoc />
    /// <remarks>Values are int64 indices.</remarks>
    public override Tensor Sample(Generator? generator, params long[] sampleShape)
    {
        using var _ = no_grad();
        var batch = BatchShape;
        var count = sampleShape.Aggregate(1L, (a, b) => a * b);
        // the sampler normalises each row itself, so probabilities are used as given
        using var weights = _logits is null ? _probs!.detach() : _logits.softmax(-1);
        using var rows = weights.reshape(-1, Categories);
        using var drawn = Noise.Multinomial(rows, count, generator);   // [rows, count]
        using var sampleFirst = drawn.t();                              // [count, rows]
        return sampleFirst.reshape(Shapes.Concat(sampleShape, batch));
    }

    /// <summary>
    /// From logits: one log-softmax gives both the draw (its exponential, the probabilities) and the log-probability
    /// of the drawn index; from probabilities, <see cref="Sample"/> then <see cref="LogProb"/>.
    /// </summary>
    internal override (Tensor Value, Tensor LogProb) SampleWithLogProb(Generator? generator)
    {
        if (_logits is null || _uniform) return base.SampleWithLogProb(generator);
        using var logProbs = _logits.log_softmax(-1);
        if (_shape.Length == 2)
        {
            // one batch dimension: the rows are the batch, and the draw [B, 1] is already the index to gather with
            Tensor index;
            using (no_grad())
            using (var probs = logProbs.detach().exp())
                index = Noise.Multinomial(probs, 1, generator);
            using (index)
            using (var gathered = logProbs.gather(-1, index))
                return (index.squeeze(-1), gathered.squeeze(-1));
        }
        Tensor value;
        using (no_grad())
        {
            using var probs = logProbs.detach().exp();
            using var rows = probs.reshape(-1, Categories);
            using var drawn = Noise.Multinomial(rows, 1, generator);   // [rows, 1]
            value = drawn.reshape(BatchShape);
        }
        using var unsqueezed = value.unsqueeze(-1);
        using var picked = logProbs.gather(-1, unsqueezed);
        return (value, picked.squeeze(-1));
    }

    /// <inheritdoc />
    /// <param name="value">int64 category indices whose shape broadcasts with the batch shape.</param>
    public override Tensor LogProb(Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var shape = Shapes.Broadcast(value.shape, BatchShape);
        if (_uniform) return TorchSharp.torch.full(shape, -Math.Log(Categories), DType, Device);
        using var index = value.to_type(ScalarType.Int64).expand(shape).unsqueeze(-1);
        var full = Shapes.Concat(shape, [Categories]);
        if (_logits is not null)
        {
            using var logits = _logits.log_softmax(-1);
            using var expanded = logits.expand(full);
            using var picked = expanded.gather(-1, index);
            return picked.squeeze(-1);
        }
        // log p_k − log Σp: the logarithm is taken of the picked probability only, so a zero elsewhere in the
        // vector (an underflowed softmax entry) cannot turn the gradient into NaN.
        using var probs = _probs!.expand(full);
        using var pickedProb = probs.gather(-1, index);
        using var pickedFlat = pickedProb.squeeze(-1);
        using var logPicked = pickedFlat.log();
        using var total = _probs.sum(-1);
        using var logTotal = total.log();
        return logPicked - logTotal;
    }

    /// <inheritdoc />
    public override Distribution Expand(long[] batchShape)
    {
        var full = Shapes.Concat(batchShape, [Categories]);
        return new Categorical(_logits?.expand(full), _probs?.expand(full), _uniform);
    }

    /// <inheritdoc />
    public override string? ParameterError() =>
        _logits is not null
            ? Check.FiniteOrNegativeInfinity("logits", _logits) ?? Check.SomeFinite("logits", _logits)
            : Check.Simplex("probs", _probs!);
}
