using System;
using Scg.Distributions;
using Scg.Estimators;
using static TorchSharp.torch;

namespace Scg;

/// <summary>
/// The pathwise (reparameterisation) estimator: the value is drawn as a differentiable function of the parameters
/// and noise, so gradients reach the parameters through the value; the surrogate adds nothing for the site.
/// </summary>
public sealed record PathwiseEstimator : SiteEstimator
{
    internal PathwiseEstimator()
    {
    }

    /// <inheritdoc />
    public override SiteEstimator WithBaseline(Baseline baseline) =>
        throw new InvalidOperationException("A pathwise site has no score term, so a baseline would do nothing: use ScoreFunction (or Auto) with a baseline.");

    /// <inheritdoc />
    public override SiteEstimator WithCritic(Critic critic) =>
        throw new InvalidOperationException("A pathwise site has no score term, so a critic would do nothing: use SiteEstimator.ScoreFunction.WithCritic.");

    internal override SiteEstimator Resolve(string site, Distribution distribution) =>
        distribution.IsReparameterized
            ? this
            : throw new ArgumentException(
                $"Sample site '{site}': pathwise estimation was requested, but {distribution.Name} is not reparameterised; use ScoreFunction or Auto.");

    internal override Tensor Draw(Distribution distribution, Generator? generator) => distribution.RSample(generator);

    /// <inheritdoc />
    public override string ToString() => "Pathwise";
}
