using System;
using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>
/// The categorical distribution with values written as one-hot vectors: event shape [K], values floating 0/1
/// in the parameter dtype with exactly one 1. Not reparameterised.
/// </summary>
public sealed class OneHotCategorical : Distribution
{
    private OneHotCategorical(Categorical categorical) => Categorical = categorical;

    /// <summary>Creates a one-hot categorical distribution from unnormalised log-probabilities.</summary>
    /// <param name="logits">Log-probabilities up to an additive constant per vector; the last dimension holds the K categories.</param>
    public static OneHotCategorical FromLogits(Tensor logits) => new(Categorical.FromLogits(logits));

    /// <summary>Creates a one-hot categorical distribution from probabilities.</summary>
    /// <param name="probs">Probability vectors along the last dimension (non-negative, summing to one).</param>
    public static OneHotCategorical FromProbs(Tensor probs) => new(Categorical.FromProbs(probs));

    /// <summary>The same distribution over indices.</summary>
    public Categorical Categorical { get; }

    /// <summary>The normalised log-probabilities, of shape batch ++ [K].</summary>
    public Tensor Logits => Categorical.Logits;

    /// <summary>The probabilities, of shape batch ++ [K].</summary>
    public Tensor Probs => Categorical.Probs;

    /// <inheritdoc />
    public override string Name => "OneHotCategorical";

    /// <inheritdoc />
    public override long[] BatchShape => Categorical.BatchShape;

    /// <inheritdoc />
    public override long[] EventShape => [Categorical.Categories];

    /// <inheritdoc />
    public override bool IsReparameterized => false;

    /// <inheritdoc />
    public override Constraint Support => Constraints.OneHot;

    /// <inheritdoc />
    public override Device Device => Categorical.Device;

    /// <inheritdoc />
    public override ScalarType DType => Categorical.DType;

    /// <inheritdoc />
    /// <remarks>The K one-hot vectors, rows of the identity, in the parameters' floating type.</remarks>
    public override Tensor? EnumerateSupport() => eye(Categorical.Categories, Categorical.Categories, DType, Device);

    /// <inheritdoc />
    public override Tensor Sample(Generator? generator, params long[] sampleShape)
    {
        using var _ = no_grad();
        using var index = Categorical.Sample(generator, sampleShape);
        using var oneHot = nn.functional.one_hot(index, Categorical.Categories);
        return oneHot.to_type(DType);
    }

    /// <inheritdoc />
    /// <param name="value">One-hot vectors (last dimension K); the position of the largest entry is taken as the category.</param>
    public override Tensor LogProb(Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        using var index = value.argmax(-1);
        return Categorical.LogProb(index);
    }

    /// <inheritdoc />
    public override Distribution Expand(long[] batchShape) =>
        new OneHotCategorical((Categorical)Categorical.Expand(batchShape));

    /// <inheritdoc />
    public override string? ParameterError() => Categorical.ParameterError();
}
