using System;
using System.Collections.Generic;
using Scg.Interpretation;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>What baselines see while a surrogate is built: the trace, the store for their state, the options, and
/// the losses of learned baselines collected so far.</summary>
internal sealed class BaselineContext(Trace trace, SurrogateOptions options, bool validate)
{
    public Trace Trace { get; } = trace;

    public bool Validate { get; } = validate;

    /// <summary>The least-squares losses of learned baselines, one per site.</summary>
    public List<Tensor> BaselineLosses { get; } = [];

    /// <summary>The site's baseline: its estimator's, else the options' fallback.</summary>
    public Baseline? BaselineOf(SampleNode site) => (site.Estimator as ScoreFunctionEstimator)?.Baseline ?? options.Baseline;

    /// <summary>The site's critic, if any.</summary>
    public static Critic? CriticOf(SampleNode site) => (site.Estimator as ScoreFunctionEstimator)?.Critic;

    /// <summary>True when some score-function site of the trace has a baseline or a critic.</summary>
    public bool Any()
    {
        foreach (var node in Trace.Nodes)
            if (node is SampleNode { IsScoreFunction: true } s && (BaselineOf(s) is not null || CriticOf(s) is not null)) return true;
        return false;
    }

    /// <summary>The store that keeps a baseline's state between steps; refused when it would be forgotten.</summary>
    public ParamStore StoreFor(SampleNode site, string what) =>
        options.Store ?? (Trace.StoreGiven && Trace.Store is { } store ? store : throw new InvalidOperationException(
            $"Sample site '{site.Name}' has {what}, whose state must outlive the step, but the run had no parameter store " +
            "(RunOptions.Params) and SurrogateOptions.Store is not set: the state would be forgotten and the baseline never used. " +
            "Pass one ParamStore to every step."));
}
