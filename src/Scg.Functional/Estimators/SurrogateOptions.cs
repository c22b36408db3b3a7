namespace Scg.Estimators;

/// <summary>Options for building a surrogate objective.</summary>
public sealed record SurrogateOptions
{
    /// <summary>The baseline subtracted from each score-function site's cost-to-go; none when null.</summary>
    public Baseline? Baseline { get; init; }

    /// <summary>
    /// Build the score-function terms with a fixed number of stacked tensor operations instead of a few
    /// operations per site, where the options allow it (no baseline). Default true;
    /// false gives the same value up to the order of floating-point additions.
    /// </summary>
    public bool Vectorize { get; init; } = true;

    /// <summary>
    /// Check that the surrogate is finite (one check of the total; when it fails, the node at fault is found
    /// and named) and that baselines are finite. When null (the default), as the run did
    /// (<see cref="Tracing.Trace.Validated"/>, from <c>RunOptions.ValidateArguments</c>). Baseline shapes are
    /// always checked.
    /// </summary>
    public bool? ValidateArguments { get; init; }

    /// <summary>The options used when none are given.</summary>
    public static SurrogateOptions Default { get; } = new();
}
