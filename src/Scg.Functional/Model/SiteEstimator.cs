namespace Scg;

/// <summary>How the gradient of the expected cost passes through a sample site.</summary>
public enum SiteEstimator
{
    /// <summary>Pathwise when the distribution is reparameterised, score function otherwise.</summary>
    Auto,

    /// <summary>
    /// Reparameterised: the value is a differentiable function of the parameters and gradients flow through
    /// it. Only allowed for distributions whose <c>IsReparameterized</c> is true.
    /// </summary>
    Pathwise,

    /// <summary>
    /// Score function (REINFORCE): the value carries no gradient; the surrogate adds
    /// log p(value) · stop_grad(cost-to-go − baseline).
    /// </summary>
    ScoreFunction,
}
