using System;
using Scg.Distributions;
using Scg.Estimators;
using static TorchSharp.torch;

namespace Scg;

/// <summary>
/// How the gradient of the expected cost passes through a sample site: an immutable value that decides how the
/// site's value is produced (a pathwise draw, a plain draw) and what the surrogate adds for it (nothing, or a
/// score term with a learning signal). Choose one per site in the model (<c>Model.Sample</c>) or override it at
/// run time by site name or predicate (<see cref="Interpretation.RunOptions.Estimators"/>), so one model can be
/// trained or measured with several estimators.
/// </summary>
/// <remarks>
/// The hierarchy is closed (its constructor is not accessible outside Scg): <see cref="AutoEstimator"/>,
/// <see cref="PathwiseEstimator"/> and <see cref="ScoreFunctionEstimator"/>. docs/design.md describes how
/// enumeration, DiCE, DisARM, RELAX and measure-valued derivatives plug into the same two decisions.
/// </remarks>
public abstract record SiteEstimator
{
    private protected SiteEstimator()
    {
    }

    /// <summary>Pathwise when the distribution is reparameterised, score function otherwise (the default).</summary>
    public static SiteEstimator Auto { get; } = new AutoEstimator(null);

    /// <summary>
    /// Reparameterised: the value is a differentiable function of the parameters and gradients flow through
    /// it. Only allowed for distributions whose <c>IsReparameterized</c> is true.
    /// </summary>
    public static SiteEstimator Pathwise { get; } = new PathwiseEstimator();

    /// <summary>
    /// Score function (REINFORCE) with the plain cost-to-go as its learning signal: the value carries no gradient
    /// and the surrogate adds log p(value) · stop_grad(cost-to-go). Add a baseline with <see cref="WithBaseline"/>,
    /// a critic with <see cref="WithCritic"/>.
    /// </summary>
    public static SiteEstimator ScoreFunction { get; } = new ScoreFunctionEstimator(null, null);

    /// <summary>
    /// Exact enumeration: the site's value is its whole (finite) support, laid along a dimension of its own to the
    /// left of the plates and the particle dimension, and the surrogate weights every downstream cost by the
    /// support's probabilities, so the expectation over the site is exact and differentiable. Inside a plate the
    /// enumeration is per element, so everything downstream of the site must lie in the site's plates.
    /// </summary>
    public static SiteEstimator Enumerate { get; } = new EnumerateEstimator();

    /// <summary>
    /// The same estimator with <paramref name="baseline"/> subtracted from the learning signal of the score-function
    /// sites it serves (for <see cref="Auto"/>: of the sites it resolves to the score function).
    /// </summary>
    /// <param name="baseline">The baseline.</param>
    /// <exception cref="InvalidOperationException">The estimator is pathwise: it has no score term for a baseline.</exception>
    public abstract SiteEstimator WithBaseline(Baseline baseline);

    /// <summary>
    /// The score-function estimator with <paramref name="critic"/>'s estimate in place of the sampled cost-to-go.
    /// <b>Biased</b> unless the critic is exact.
    /// </summary>
    /// <param name="critic">The critic.</param>
    /// <exception cref="InvalidOperationException">The estimator is not <see cref="ScoreFunction"/>.</exception>
    public abstract SiteEstimator WithCritic(Critic critic);

    /// <summary>
    /// The estimator a site with distribution <paramref name="distribution"/> actually uses (never
    /// <see cref="AutoEstimator"/>); throws, naming the site, when this estimator cannot serve it.
    /// </summary>
    internal abstract SiteEstimator Resolve(string site, Distribution distribution);

    /// <summary>Produces the site's value (called on a resolved estimator).</summary>
    internal abstract Tensor Draw(Distribution distribution, Generator? generator);
}
