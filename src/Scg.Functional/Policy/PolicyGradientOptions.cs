using System;

namespace Scg.Policy;

/// <summary>
/// How <see cref="PolicyGradient.Build"/> turns a rollout into a policy-gradient objective. The defaults give the plain
/// cost-to-go estimator (REINFORCE with credit for later costs only), unbiased for the undiscounted expected cost.
/// </summary>
public sealed record PolicyGradientOptions
{
    /// <summary>
    /// The discount γ in (0, 1]. The objective becomes J_γ = E[Σ_t γ^t c_t] and each action a_t is credited with the
    /// discounted cost-to-go Σ_{t' ≥ t} γ^{t'−t} c_{t'}, its score term weighted by γ^t: unbiased for J_γ. γ = 1 is the
    /// plain objective; γ &lt; 1 is a choice of the user that is biased for the undiscounted objective (it discounts late
    /// costs away), usually with less variance.
    /// </summary>
    public double Gamma { get; init; } = 1.0;

    /// <summary>
    /// Drop the γ^t weight of step t's score term (common practice in deep RL): biased for J_γ and for the undiscounted
    /// objective alike when γ &lt; 1, since late actions are credited as if each started a new episode. No effect
    /// when γ = 1.
    /// </summary>
    public bool DropStateDiscount { get; init; }

    /// <summary>
    /// A learned state-value function V(s_t). Without <see cref="Lambda"/> it is a baseline: each action's signal is
    /// its discounted cost-to-go minus V(s_t), unbiased since s_t is a non-descendant of a_t, and V is trained on the
    /// cost-to-go. Null: no baseline.
    /// </summary>
    public ValueFunction? Value { get; init; }

    /// <summary>
    /// With <see cref="Value"/>: use it as a critic with generalised advantage estimation, GAE(λ): the signal of a_t is
    /// Σ_l (γλ)^l δ_{t+l}, δ_t = c_t + γ V(s_{t+1}) − V(s_t) (V = 0 after an episode's end and past the horizon), and V
    /// is trained on the λ-return. λ = 0 is the one-step actor-critic, λ = 1 the baseline above. For λ &lt; 1 this is
    /// <b>biased</b> unless the critic is exact (it bootstraps from V); it usually has less variance. Null: no critic.
    /// </summary>
    public double? Lambda { get; init; }

    /// <summary>The weight of the value function's least-squares loss in <see cref="PolicyGradientObjective.Loss"/>.</summary>
    public double ValueLossWeight { get; init; } = 1.0;

    /// <summary>The defaults: γ = 1, no baseline, no critic.</summary>
    public static PolicyGradientOptions Default { get; } = new();

    /// <summary>Throws when an option is out of range.</summary>
    internal void Check()
    {
        if (!(Gamma is > 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(Gamma), $"The discount γ must lie in (0, 1] (got {Gamma}).");
        if (Lambda is { } l && !(l is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(Lambda), $"GAE's λ must lie in [0, 1] (got {l}).");
        if (Lambda is not null && Value is null)
            throw new ArgumentException("GAE(λ) needs a critic: set PolicyGradientOptions.Value to a value function.", nameof(Lambda));
        if (!(ValueLossWeight >= 0 && double.IsFinite(ValueLossWeight)))
            throw new ArgumentOutOfRangeException(nameof(ValueLossWeight), $"The value loss weight must be finite and ≥ 0 (got {ValueLossWeight}).");
    }
}
