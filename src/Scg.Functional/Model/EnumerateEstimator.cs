using System;
using Scg.Distributions;
using Scg.Estimators;
using static TorchSharp.torch;

namespace Scg;

/// <summary>
/// Exact enumeration of a finite-support site; see <see cref="SiteEstimator.Enumerate"/>. No variance, no
/// baseline: the expectation over the site is a weighted sum.
/// </summary>
public sealed record EnumerateEstimator : SiteEstimator
{
    internal EnumerateEstimator()
    {
    }

    /// <inheritdoc />
    public override SiteEstimator WithBaseline(Baseline baseline) =>
        throw new InvalidOperationException("An enumerated site has no score term, so a baseline would do nothing: its expectation is exact.");

    /// <inheritdoc />
    public override SiteEstimator WithCritic(Critic critic) =>
        throw new InvalidOperationException("An enumerated site has no score term, so a critic would do nothing: its expectation is exact.");

    internal override SiteEstimator Resolve(string site, Distribution distribution) =>
        distribution.EnumerateSupport() is null
            ? throw new ArgumentException(
                $"Sample site '{site}': enumeration was requested, but {distribution.Name} has no finite support to enumerate; use ScoreFunction or Auto.")
            : this;

    internal override Tensor Draw(Distribution distribution, Generator? generator) =>
        throw new InvalidOperationException("An enumerated site's value is laid out by the run, not drawn.");

    /// <inheritdoc />
    public override string ToString() => "Enumerate";
}
