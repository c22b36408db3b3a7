using System;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>
/// A probability distribution over tensors with a batch shape (independent, not necessarily identical
/// distributions) and an event shape (the shape of one draw). Instances are immutable.
/// </summary>
/// <remarks>
/// Scg never relies on TorchSharp's own <c>rsample</c>: every distribution states whether it is
/// reparameterised (<see cref="IsReparameterized"/>) and, when it is, implements the pathwise draw itself.
/// </remarks>
public abstract class Distribution
{
    /// <summary>A short family name used in messages and printed traces, for example <c>Normal</c>.</summary>
    public abstract string Name { get; }

    /// <summary>The shape of independent draws in one call, to the left of <see cref="EventShape"/>.</summary>
    public abstract long[] BatchShape { get; }

    /// <summary>The shape of a single draw; <see cref="LogProb"/> sums over these rightmost dimensions.</summary>
    public abstract long[] EventShape { get; }

    /// <summary>
    /// True when <see cref="RSample"/> returns draws that are differentiable functions of the parameters
    /// (pathwise gradients); false when only score-function (REINFORCE) gradients are available.
    /// </summary>
    public abstract bool IsReparameterized { get; }

    /// <summary>The set of values with positive density or mass.</summary>
    public abstract Constraint Support { get; }

    /// <summary>
    /// True when the support moves with the parameters (Uniform's bounds). Score-function estimation is then
    /// biased, because the score ignores the mass gained or lost at the moving boundary, so a sample site
    /// refuses it; <see cref="SiteEstimator.Auto"/> chooses the pathwise estimator for such a distribution
    /// when it is reparameterised.
    /// </summary>
    public virtual bool SupportDependsOnParameters => false;

    /// <summary>The device of the parameters; tensors this distribution creates live there.</summary>
    public abstract Device Device { get; }

    /// <summary>The floating-point type of the parameters; continuous draws have this type.</summary>
    public abstract ScalarType DType { get; }

    /// <summary>
    /// Draws values of shape <paramref name="sampleShape"/> ++ <see cref="BatchShape"/> ++ <see cref="EventShape"/>
    /// with no gradient path to the parameters.
    /// </summary>
    /// <param name="generator">The random source; null uses TorchSharp's default generator.</param>
    /// <param name="sampleShape">Extra leading dimensions of independent draws; empty for one draw per batch element.</param>
    public abstract Tensor Sample(Generator? generator, params long[] sampleShape);

    /// <summary>
    /// Draws reparameterised values (a differentiable function of the parameters and of parameter-free noise).
    /// </summary>
    /// <param name="generator">The random source; null uses TorchSharp's default generator.</param>
    /// <param name="sampleShape">Extra leading dimensions of independent draws.</param>
    /// <exception cref="NotSupportedException">The distribution is not reparameterised.</exception>
    public virtual Tensor RSample(Generator? generator, params long[] sampleShape) =>
        throw new NotSupportedException($"{Name} has no reparameterised sampler; use score-function estimation.");

    /// <summary>
    /// The log density or log mass of <paramref name="value"/>, summed over the event dimensions; the result
    /// has the broadcast of the value's leading dimensions with <see cref="BatchShape"/>.
    /// </summary>
    /// <param name="value">A value whose rightmost dimensions equal <see cref="EventShape"/>.</param>
    public abstract Tensor LogProb(Tensor value);

    /// <summary>
    /// The same family with parameters broadcast to <paramref name="batchShape"/> (which must be a broadcast of
    /// the current batch shape). Used by plates and vectorised particles.
    /// </summary>
    /// <param name="batchShape">The new batch shape.</param>
    public abstract Distribution Expand(long[] batchShape);

    /// <summary>
    /// Checks the parameters: returns null when they are valid, or a sentence naming the offending parameter
    /// (for example <c>"scale must be positive (found -1)"</c>). Callers add the site name.
    /// </summary>
    public abstract string? ParameterError();

    /// <summary>
    /// The support's values laid along a new leading dimension (shape [n] ++ <see cref="EventShape"/>, the same for
    /// every batch element), or null when the support is not finite. Sites use it for exact enumeration
    /// (<see cref="SiteEstimator.Enumerate"/>).
    /// </summary>
    public virtual Tensor? EnumerateSupport() => null;

    /// <summary>
    /// The same distribution with its parameters detached (no gradient through them), or null when the family does
    /// not support it. Used by "sticking the landing" guides, whose log q(z) is differentiated only through z.
    /// </summary>
    internal virtual Distribution? WithDetachedParameters() => null;

    /// <summary>
    /// One draw per batch element, as <see cref="Sample"/> with no sample shape, and its log-probability, as
    /// <see cref="LogProb"/>: a score-function site needs both, and a family may share work between them (a Categorical
    /// from logits normalises them once).
    /// </summary>
    internal virtual (Tensor Value, Tensor LogProb) SampleWithLogProb(Generator? generator)
    {
        var value = Sample(generator);
        return (value, LogProb(value));
    }

    /// <summary>Reinterprets the rightmost <paramref name="dims"/> batch dimensions as event dimensions.</summary>
    /// <param name="dims">How many batch dimensions become event dimensions.</param>
    public Distribution ToEvent(int dims) => new Independent(this, dims);

    /// <inheritdoc />
    public override string ToString() =>
        $"{Name}(batch=[{string.Join(",", BatchShape)}], event=[{string.Join(",", EventShape)}])";
}
