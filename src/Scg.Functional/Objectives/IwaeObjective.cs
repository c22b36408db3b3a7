using static TorchSharp.torch;

namespace Scg.Objectives;

/// <summary>The result of <see cref="Iwae.Build"/>.</summary>
/// <param name="Bound">The importance-weighted bound L = log (1/K) Σ_k w_k (detached): report it; it rises toward
/// log p(x) as K grows.</param>
/// <param name="Surrogate">A scalar whose gradient is an unbiased estimate of ∇(−L): minimise it.</param>
/// <param name="LogWeights">The K log weights log w_k (detached): shape [K], or [K, B] with a data plate of B points
/// (the bound is then the sum over the points of their own bounds).</param>
public sealed record IwaeObjective(Tensor Bound, Tensor Surrogate, Tensor LogWeights) : IObjective
{
    /// <summary>The same as <see cref="Surrogate"/>: what a training step back-propagates.</summary>
    public Tensor Loss => Surrogate;

    /// <summary>−<see cref="Bound"/>, the value the training minimises.</summary>
    public Tensor Value => -Bound;
}
