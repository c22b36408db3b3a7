using System;
using System.Collections.Generic;
using Scg.Distributions;
using Scg.Estimators;
using static TorchSharp.torch;

namespace Scg;

/// <summary>
/// The score-function (REINFORCE) estimator: the value is a plain draw that carries no gradient, and the surrogate
/// adds log p(value) · stop_grad(signal − baseline), where the signal is the site's cost-to-go (the costs downstream
/// of it), or the <see cref="Critic"/>'s estimate of it when one is given.
/// </summary>
/// <param name="Baseline">Subtracted from the signal; it depends only on the site's non-descendants, so the
/// estimate stays unbiased. None when null.</param>
/// <param name="Critic">Replaces the sampled cost-to-go by an estimate of its expectation; biased unless the
/// critic is exact. None when null.</param>
public sealed record ScoreFunctionEstimator(Baseline? Baseline, Critic? Critic) : SiteEstimator
{
    /// <inheritdoc />
    public override SiteEstimator WithBaseline(Baseline baseline)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        return this with { Baseline = baseline };
    }

    /// <inheritdoc />
    public override SiteEstimator WithCritic(Critic critic)
    {
        ArgumentNullException.ThrowIfNull(critic);
        return this with { Critic = critic };
    }

    internal override SiteEstimator Resolve(string site, Distribution distribution) =>
        distribution.SupportDependsOnParameters
            ? throw new ArgumentException(
                $"Sample site '{site}': score-function estimation was requested, but the support of {distribution.Name} depends on its " +
                "parameters, so the score function misses the moving boundary and its gradient is biased; use Pathwise or Auto.")
            : this;

    internal override Tensor Draw(Distribution distribution, Generator? generator) => distribution.Sample(generator);

    /// <summary>True when the site's learning signal is more than the plain cost-to-go.</summary>
    internal bool HasSignalChange => Baseline is not null || Critic is not null;

    /// <inheritdoc />
    public override string ToString()
    {
        if (!HasSignalChange) return "ScoreFunction";
        var parts = new List<string>();
        if (Baseline is not null) parts.Add($"baseline: {Baseline}");
        if (Critic is not null) parts.Add("critic");
        return $"ScoreFunction({string.Join(", ", parts)})";
    }
}
