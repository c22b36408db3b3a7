using System.Collections.Generic;
using System.Globalization;
using Scg.Distributions;
using Scg.Estimators;
using Scg.Interpretation;
using Scg.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.Tests.CSharp;

/// <summary>
/// Estimators and baselines chosen from C#: per site in a LINQ query, by override with a C# lambda predicate, and
/// read back with C# pattern matching. The F# tests (EstimatorApiTests) run these and check the traces.
/// </summary>
public static class EstimatorLinq
{
    /// <summary>
    /// a ~ Bernoulli with a moving-average baseline, z ~ Normal (Auto: pathwise), b ~ Bernoulli with a learned
    /// baseline reading z, then a cost on all three; the estimator of b is picked with a C# conditional.
    /// </summary>
    public static Model<Tensor> Query(Tensor theta, nn.Module<Tensor, Tensor> module, bool learned) =>
        from a in Model.Sample("a", Bernoulli.FromLogits(theta), SiteEstimator.ScoreFunction.WithBaseline(Baseline.MovingAverage(0.9)))
        from z in Model.Sample("z", new Normal(theta, ones_like(theta)))
        let estimator = learned
            ? SiteEstimator.ScoreFunction.WithBaseline(Baseline.Learned("bl", module, ["z"], vs => vs[0].unsqueeze(-1)))
            : SiteEstimator.ScoreFunction
        from b in Model.Sample("b", Bernoulli.FromLogits(theta * 0.5), estimator)
        from c in Model.Cost("c", a + z * 2.0 + b * 3.0)
        select c;

    /// <summary>Overrides written in C#: every Bernoulli site uses leave-one-out, then site "a" a constant baseline.</summary>
    public static EstimatorOverrides BernoulliLeaveOneOutThenA() =>
        EstimatorOverrides.None
            .ForSites((_, d) => d is Bernoulli, SiteEstimator.ScoreFunction.WithBaseline(Baseline.LeaveOneOut))
            .For("a", SiteEstimator.ScoreFunction.WithBaseline(Baseline.Constant(2.0)));

    /// <summary>A C# switch over a site's resolved estimator, as a user would write it.</summary>
    public static string Kind(SiteEstimator estimator) => estimator switch
    {
        ScoreFunctionEstimator { Baseline: MovingAverageBaseline m } => "score, moving average " + m.Decay.ToString(CultureInfo.InvariantCulture),
        ScoreFunctionEstimator { Baseline: LeaveOneOutBaseline } => "score, leave-one-out",
        ScoreFunctionEstimator { Baseline: ConstantBaseline k } => "score, constant " + k.Value.ToString(CultureInfo.InvariantCulture),
        ScoreFunctionEstimator { Baseline: LearnedBaseline l } => $"score, learned {l.Name}",
        ScoreFunctionEstimator => "score",
        PathwiseEstimator => "pathwise",
        _ => "other",
    };

    /// <summary>The kinds of the run's sites, by name.</summary>
    public static IReadOnlyDictionary<string, string> Kinds(Model<Tensor> model, RunOptions options)
    {
        var result = new Dictionary<string, string>();
        foreach (var s in Interpreter.Sample(model, options).Trace.Samples) result[s.Name] = Kind(s.Estimator);
        return result;
    }
}
