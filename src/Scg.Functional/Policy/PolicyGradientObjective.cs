using Scg.Objectives;
using static TorchSharp.torch;

namespace Scg.Policy;

/// <summary>
/// A policy-gradient objective built by <see cref="PolicyGradient.Build"/>, per environment (averaged over the N
/// episodes of the rollout).
/// </summary>
/// <param name="Surrogate">The scalar whose gradient in the policy's parameters estimates ∇J_γ (with a critic, a biased
/// estimate): Σ_t γ^t c_t plus the actions' score terms, averaged over the environments.</param>
/// <param name="Cost">The discounted cost Σ_t γ^t c_t averaged over the environments, detached.</param>
/// <param name="ValueLoss">The value function's least-squares loss (already weighted), or null without one.</param>
public sealed record PolicyGradientObjective(Tensor Surrogate, Tensor Cost, Tensor? ValueLoss) : IObjective
{
    /// <summary>The surrogate plus the value function's loss: one backward pass trains both.</summary>
    public Tensor Loss => ValueLoss is null ? Surrogate : Surrogate + ValueLoss;

    /// <summary>The discounted cost per environment (<see cref="Cost"/>).</summary>
    public Tensor Value => Cost;
}
