using Scg.Interpretation;

namespace Scg.Estimators;

/// <summary>Options for building a surrogate objective.</summary>
public sealed record SurrogateOptions
{
    /// <summary>
    /// The baseline of every score-function site whose estimator has none (a site's own, from
    /// <c>SiteEstimator.ScoreFunction.WithBaseline</c>, wins); none when null.
    /// </summary>
    public Baseline? Baseline { get; init; }

    /// <summary>
    /// Where baselines keep state between steps (moving averages); when null, the run's parameter store
    /// (<see cref="RunOptions.Params"/>).
    /// </summary>
    public ParamStore? Store { get; init; }

    /// <summary>
    /// Use the total cost of the run (with particles, of the site's particle), instead of each site's cost-to-go,
    /// as the learning signal of every score-function site: plain REINFORCE. Unbiased but noisier (costs that cannot depend on a site add noise to
    /// its term); meant for comparisons such as the variance report. Default false.
    /// </summary>
    public bool TotalCost { get; init; }

    /// <summary>
    /// Build the score-function terms with a fixed number of stacked tensor operations instead of a few
    /// operations per site. Default true; false gives the same value up to the order of floating-point additions.
    /// </summary>
    public bool Vectorize { get; init; } = true;

    /// <summary>
    /// Check that the surrogate is finite (one check of the total; when it fails, the node at fault is found
    /// and named) and that baselines and critics are finite. When null (the default), as the run did
    /// (<see cref="Tracing.Trace.Validated"/>, from <c>RunOptions.ValidateArguments</c>). Baseline shapes are
    /// always checked.
    /// </summary>
    public bool? ValidateArguments { get; init; }

    /// <summary>The options used when none are given.</summary>
    public static SurrogateOptions Default { get; } = new();
}
