namespace Scg.Estimators;

/// <summary>Options for building a surrogate objective.</summary>
public sealed record SurrogateOptions
{
    /// <summary>The baseline subtracted from each score-function site's cost-to-go; none when null.</summary>
    public Baseline? Baseline { get; init; }

    /// <summary>The options used when none are given.</summary>
    public static SurrogateOptions Default { get; } = new();
}
