using System;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>
/// Builds the surrogate objective of a trace (Schulman et al. 2015):
/// S = Σ_c sum(c) + Σ_{score-function sites s} sum(log p(s) · stop_grad(Q_s − b_s)),
/// where Q_s is the cost-to-go of s (<see cref="CostToGo"/>) and b_s its baseline. Pathwise sites need no
/// term: gradients reach the parameters through their values. With K particles both S and the reported cost
/// are divided by K.
/// </summary>
public static class Surrogate
{
    /// <summary>Builds the surrogate and the reported cost of <paramref name="trace"/>.</summary>
    /// <param name="trace">A trace recorded by an interpreter.</param>
    /// <param name="options">Baseline and other options; defaults when null.</param>
    public static SurrogateObjective Build(Trace trace, SurrogateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(trace);
        options ??= SurrogateOptions.Default;
        var (cost, score) = options.Vectorize && options.Baseline is null && !trace.HasProducts
            ? VectorizedSurrogate.Build(trace)
            : PerSite(trace, options.Baseline);

        cost ??= Zero(trace);
        var surrogate = score is null ? cost : cost + score;
        var k = trace.ParticleCount;
        if (k > 1)
        {
            surrogate = surrogate / k;
            cost = cost / k;
        }
        return new SurrogateObjective(surrogate, cost.detach());
    }

    /// <summary>Builds the surrogate of a run's trace; see <see cref="Build"/>.</summary>
    /// <param name="trace">A trace recorded by an interpreter.</param>
    /// <param name="options">Baseline and other options; defaults when null.</param>
    public static SurrogateObjective ToSurrogate(this Trace trace, SurrogateOptions? options = null) => Build(trace, options);

    private static (Tensor? Cost, Tensor? Score) PerSite(Trace trace, Baseline? baseline)
    {
        Tensor? cost = null;
        foreach (var node in trace.Nodes)
        {
            var c = node switch
            {
                CostNode n => n.Reduced!.sum(),
                ObserveNode o => o.Reduced!.sum().neg(),
                _ => null,
            };
            if (c is not null) cost = cost is null ? c : cost + c;
        }

        Tensor? score = null;
        CostToGo.Walk(trace, s => s.IsScoreFunction, (site, q) =>
        {
            var signal = baseline?.Invoke(site, q) is { } b ? q - b.detach() : q;
            var term = site.Reduced!.mul(signal).sum();
            score = score is null ? term : score + term;
        });
        return (cost, score);
    }

    private static Tensor Zero(Trace trace)
    {
        foreach (var n in trace.Nodes)
            if (n is SampleNode s) return zeros([], s.LogProb.dtype, s.LogProb.device);
        return zeros([]);
    }
}
