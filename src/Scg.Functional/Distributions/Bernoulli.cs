using System;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>
/// The Bernoulli distribution over {0, 1}, element by element, parameterised by logits (log-odds).
/// Values are 0/1 in the parameter dtype. Not reparameterised: gradients go through the score function.
/// </summary>
public sealed class Bernoulli : Distribution
{
    private static readonly Scalar Two = 2.0, One = 1.0;
    private readonly Tensor? _probs;

    private Bernoulli(Tensor logits, Tensor? probs)
    {
        Logits = logits;
        _probs = probs;
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
    /// <param name="probs">The probabilities of 1, in [0, 1]; its shape is the batch shape.</param>
    public static Bernoulli FromProbs(Tensor probs)
    {
        ArgumentNullException.ThrowIfNull(probs);
        Check.RequireFloating(probs, "probs");
        return new Bernoulli(probs.log() - probs.neg().log1p(), probs);
    }

    /// <summary>The log-odds of a 1, of the batch shape.</summary>
    public Tensor Logits { get; }

    /// <summary>The probabilities of a 1, of the batch shape (the given probabilities, or the sigmoid of the logits).</summary>
    public Tensor Probs => _probs ?? Logits.sigmoid();

    /// <inheritdoc />
    public override string Name => "Bernoulli";

    /// <inheritdoc />
    public override long[] BatchShape => Logits.shape;

    /// <inheritdoc />
    public override long[] EventShape => [];

    /// <inheritdoc />
    public override bool IsReparameterized => false;

    /// <inheritdoc />
    public override Constraint Support => Constraints.Boolean;

    /// <inheritdoc />
    public override Device Device => Logits.device;

    /// <inheritdoc />
    public override ScalarType DType => Logits.dtype;

    /// <inheritdoc />
    public override Tensor Sample(Generator? generator, params long[] sampleShape)
    {
        using var _ = no_grad();
        using var probs = _probs is null ? Logits.sigmoid() : _probs.detach();
        if (sampleShape.Length == 0) return Noise.Bernoulli(probs, generator);
        using var full = probs.expand(Shapes.Concat(sampleShape, BatchShape));
        return Noise.Bernoulli(full, generator);
    }

    /// <inheritdoc />
    public override Tensor LogProb(Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        // log p(x) = logsigmoid((2x − 1) · logit); the sign depends on the value only, which carries no gradient.
        Tensor sign;
        using (no_grad()) sign = value.mul(Two).sub_(One);
        using (sign)
        using (var signed = sign * Logits)
            return nn.functional.logsigmoid(signed);
    }

    /// <inheritdoc />
    public override Distribution Expand(long[] batchShape) =>
        new Bernoulli(Logits.expand(batchShape), _probs?.expand(batchShape));

    /// <inheritdoc />
    public override string? ParameterError() =>
        _probs is null ? Check.NotNaN("logits", Logits) : Check.InUnitInterval("probs", _probs);
}
