using System.Collections.Generic;
using Scg.Estimators;
using Scg.Interpretation;

namespace Scg.VarianceReport;

/// <summary>
/// The configurations (a)–(g) of the report, built for one model without editing it: every choice is a run-time
/// override (<see cref="RunOptions.Estimators"/>) or a surrogate option.
/// </summary>
internal static class Configurations
{
    /// <summary>Runs before measuring a moving-average baseline, so that its average has settled.</summary>
    public const int WarmUpRuns = 300;

    /// <summary>Runs of least-squares training of a learned baseline before it is frozen and measured.</summary>
    public const int PretrainRuns = 3000;

    /// <summary>The moving average of (c) and (f): the library's default decay, one average per plate element.</summary>
    public static MovingAverageBaseline MovingAverage { get; } = Baseline.MovingAverage(0.9, perElement: true);

    /// <summary>The configurations for <paramref name="model"/>, in the report's order.</summary>
    public static IReadOnlyList<Configuration> For(MeasuredModel model)
    {
        var (learned, modules) = model.LearnedBaselines();
        var pathwise = model.Pathwise();
        var (enumerated, enumeratedDescription) = model.Enumerated();
        return
        [
            new("(a)", "score function, total cost", Everywhere(SiteEstimator.ScoreFunction), TotalCost: true),
            new("(b)", "score function, cost-to-go", Everywhere(SiteEstimator.ScoreFunction)),
            new("(c)", "(b) + moving average 0.9", Everywhere(SiteEstimator.ScoreFunction.WithBaseline(MovingAverage)), WarmUp: WarmUpRuns),
            new("(d)", "(b) + learned baseline (frozen)", learned, Pretrain: modules),
            new("(e)", "(b) + leave-one-out, K = 4", Everywhere(SiteEstimator.ScoreFunction.WithBaseline(Baseline.LeaveOneOut)), Particles: 4),
            new("(e)", "(b) + leave-one-out, K = 16", Everywhere(SiteEstimator.ScoreFunction.WithBaseline(Baseline.LeaveOneOut)), Particles: 16),
            new("(f)", pathwise is null ? "pathwise" : "pathwise z; y as (c)", pathwise,
                WarmUp: pathwise is null ? 0 : WarmUpRuns, NotApplicable: model.PathwiseNote),
            new("(g)", enumeratedDescription, enumerated, WarmUp: WarmUpRuns),
        ];
    }

    /// <summary>Every sample site uses <paramref name="estimator"/>, whatever the model chose.</summary>
    private static EstimatorOverrides Everywhere(SiteEstimator estimator) =>
        EstimatorOverrides.None.ForSites((_, _) => true, estimator);
}
