using System;
using Scg.Distributions;
using Scg.Estimators;
using static TorchSharp.torch;

namespace Scg;

/// <summary>
/// The default estimator: pathwise when the site's distribution is reparameterised, score function otherwise
/// (with <see cref="Baseline"/>, when one is given, for the score-function case).
/// </summary>
/// <param name="Baseline">The baseline used when the site resolves to the score function; none when null.</param>
public sealed record AutoEstimator(Baseline? Baseline) : SiteEstimator
{
    /// <inheritdoc />
    public override SiteEstimator WithBaseline(Baseline baseline)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        return this with { Baseline = baseline };
    }

    /// <inheritdoc />
    public override SiteEstimator WithCritic(Critic critic) =>
        throw new InvalidOperationException("A critic replaces the cost-to-go of a score-function site: use SiteEstimator.ScoreFunction.WithCritic, not Auto.");

    internal override SiteEstimator Resolve(string site, Distribution distribution) =>
        distribution.IsReparameterized
            ? Pathwise
            : new ScoreFunctionEstimator(Baseline, null).Resolve(site, distribution);

    internal override Tensor Draw(Distribution distribution, Generator? generator) =>
        throw new InvalidOperationException("Auto is resolved before a value is drawn.");

    /// <inheritdoc />
    public override string ToString() => Baseline is null ? "Auto" : $"Auto(baseline: {Baseline})";
}
