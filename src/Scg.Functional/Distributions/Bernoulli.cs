using System;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>
/// The Bernoulli distribution over {0, 1}, element by element, given by logits (log-odds) or by probabilities.
/// Values are 0/1 in the parameter dtype. Not reparameterised: gradients go through the score function.
/// </summary>
/// <remarks>
/// The distribution keeps the tensor it was given and derives everything else when it is used (each call of
/// <see cref="LogProb"/>, <see cref="Logits"/> or <see cref="Probs"/>), so the autograd graph of one run never
/// holds a tensor computed when the distribution was built: a model holding it can be run and
/// back-propagated any number of times.
/// </remarks>
public sealed class Bernoulli : Distribution
{
    private static readonly Scalar Two = 2, One = 1.0;   // 2 is integral: an alpha for integer values too
    private readonly Tensor? _logits;
    private readonly Tensor? _probs;
    private readonly long[] _shape;   // the parameter's shape, read once: a shape query crosses into native code

    private Bernoulli(Tensor? logits, Tensor? probs)
    {
        _logits = logits;
        _probs = probs;
        _shape = (logits ?? probs)!.shape;
    }

    /// <summary>Creates a Bernoulli distribution with success log-odds <paramref name="logits"/>.</summary>
    /// <param name="logits">The log-odds log(p / (1 − p)); its shape is the batch shape. ±∞ is allowed.</param>
    public static Bernoulli FromLogits(Tensor logits)
    {
        ArgumentNullException.ThrowIfNull(logits);
        Check.RequireFloating(logits, "logits");
        return new Bernoulli(logits, null);
    }

    /// <summary>Creates a Bernoulli distribution with success probabilities <paramref name="probs"/>.</summary>
    /// <param name="probs">
    /// The probabilities of 1, in [0, 1]; its shape is the batch shape. The boundaries are allowed: the log
    /// probability of a possible value (1 at p = 1, 0 at p = 0) is exactly 0 with a finite gradient; an
    /// impossible value has log probability −∞ and an infinite gradient.
    /// </param>
    public static Bernoulli FromProbs(Tensor probs)
    {
        ArgumentNullException.ThrowIfNull(probs);
        Check.RequireFloating(probs, "probs");
        return new Bernoulli(null, probs);
    }

    /// <summary>
    /// The log-odds of a 1, of the batch shape: the given logits, or log p − log(1 − p) computed on each access
    /// (±∞ at p = 1 and p = 0, with infinite gradients there).
    /// </summary>
    public Tensor Logits => _logits ?? _probs!.log() - _probs!.neg().log1p();

    /// <summary>The probabilities of a 1, of the batch shape: the given probabilities, or the sigmoid of the logits computed on each access.</summary>
    public Tensor Probs => _probs ?? _logits!.sigmoid();

    private Tensor Given => _logits ?? _probs!;

    /// <inheritdoc />
    public override string Name => "Bernoulli";

    /// <inheritdoc />
    public override long[] BatchShape => (long[])_shape.Clone();

    /// <inheritdoc />
    public override long[] EventShape => [];

    /// <inheritdoc />
    public override bool IsReparameterized => false;

    /// <inheritdoc />
    public override Constraint Support => Constraints.Boolean;

    /// <inheritdoc />
    public override Device Device => Given.device;

    /// <inheritdoc />
    public override ScalarType DType => Given.dtype;

    /// <inheritdoc />
    /// <remarks>The values 0 and 1, in the parameters' floating type.</remarks>
    public override Tensor? EnumerateSupport() => tensor(new[] { 0.0, 1.0 }, DType, Device);

    /// <inheritdoc />
    public override Tensor Sample(Generator? generator, params long[] sampleShape)
    {
        using var _ = no_grad();
        using var probs = _logits is null ? _probs!.detach() : _logits.sigmoid();
        if (sampleShape.Length == 0) return Noise.Bernoulli(probs, generator);
        using var full = probs.expand(Shapes.Concat(sampleShape, BatchShape));
        return Noise.Bernoulli(full, generator);
    }

    /// <inheritdoc />
    public override Tensor LogProb(Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (_logits is null) return LogProbFromProbs(value, _probs!);
        // log p(x) = logsigmoid((2x − 1) · logit); the sign depends on the value only, which carries no gradient. It is
        // −1 + 2x in one pass over the value (a scalar tensor broadcast), not a product and then a difference. The −1 is in
        // the logits' floating dtype, so bool and integer values are promoted (in their own dtype −1 would be true or 255).
        Tensor sign;
        using (no_grad()) sign = ScalarTensors.Of(-1, _logits.dtype, value.device).add(value, Two);
        using (sign)
        using (var signed = sign * _logits)
            return nn.functional.logsigmoid(signed);
    }

    /// <summary>
    /// x log p + (1 − x) log(1 − p), each logarithm taken only where its weight is non-zero (elsewhere its
    /// argument is replaced by a constant), so a possible value at p = 0 or p = 1 gets a finite gradient.
    /// </summary>
    private static Tensor LogProbFromProbs(Tensor value, Tensor probs)
    {
        Tensor isZero, isOne, complement;
        using (no_grad())
        {
            isZero = value.eq(0);
            isOne = value.eq(1);
            complement = value.neg().add_(One);
        }
        using (isZero)
        using (isOne)
        using (complement)
        using (var forLog = probs.masked_fill(isZero, 1.0))
        using (var forLog1m = probs.masked_fill(isOne, 0.0))
        using (var logP = forLog.log())
        using (var negated = forLog1m.neg())
        using (var log1mP = negated.log1p())
        using (var ones = value * logP)
        using (var zeros = complement * log1mP)
            return ones + zeros;
    }

    /// <inheritdoc />
    public override Distribution Expand(long[] batchShape) =>
        new Bernoulli(_logits?.expand(batchShape), _probs?.expand(batchShape));

    /// <inheritdoc />
    public override string? ParameterError() =>
        _logits is not null ? Check.NotNaN("logits", _logits) : Check.InUnitInterval("probs", _probs!);
}
