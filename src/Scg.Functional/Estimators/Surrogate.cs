using System;
using System.Collections.Generic;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>
/// Builds the surrogate objective of a trace (Schulman et al. 2015):
/// S = Σ_c sum(c) + Σ_{score-function sites s} sum(log p(s) · stop_grad(Q_s − b_s)),
/// where Q_s is the cost-to-go of s (<see cref="CostToGo"/>), or its critic's estimate, and b_s its baseline
/// (<see cref="Estimators.Baseline"/>). Pathwise sites need no
/// term: gradients reach the parameters through their values. With K particles both S and the reported cost
/// are divided by K.
/// </summary>
public static class Surrogate
{
    /// <summary>Builds the surrogate and the reported cost of <paramref name="trace"/>.</summary>
    /// <param name="trace">A trace recorded by an interpreter.</param>
    /// <param name="options">Baseline and other options; defaults when null.</param>
    /// <exception cref="ArgumentException">A baseline's shape does not broadcast to its site's log-probability,
    /// or, under validation (<see cref="SurrogateOptions.ValidateArguments"/>, by default as the run did), a cost, an observation's log-probability, a
    /// score-function site's log-probability or a baseline is not finite; the message names the node.</exception>
    public static SurrogateObjective Build(Trace trace, SurrogateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(trace);
        options ??= SurrogateOptions.Default;
        var validate = options.ValidateArguments ?? trace.Validated;
        var context = new BaselineContext(trace, options, validate);
        var signals = context.Any() ? context : null;
        if (options.TotalCost && trace.HasEnumeration)
            throw new NotSupportedException("SurrogateOptions.TotalCost does not apply to a trace with enumerated sites.");
        var (cost, score) = options.TotalCost ? TotalCost(trace, signals)
            : trace.HasEnumeration ? EnumeratedSurrogate.Build(trace, signals)
            : options.Vectorize && !PlateMixing.Occurs(trace) ? VectorizedSurrogate.Build(trace, signals)
            : PerSite(trace, signals);

        cost ??= Zero(trace);
        return Complete(trace, cost, score is null ? cost : cost + score, validate, context);
    }

    /// <summary>
    /// The objective of a finished construction: both tensors averaged over particles, the surrogate checked under
    /// validation and joined to a zero leaf when nothing in it has a gradient (a surrogate without a graph would
    /// make <c>torch.autograd.grad</c> terminate the process; with the leaf, <c>backward()</c> is a no-op and
    /// <c>grad(…, allow_unused: true)</c> answers zeros), and the learned baselines' loss.
    /// </summary>
    internal static SurrogateObjective Complete(Trace trace, Tensor cost, Tensor surrogate, bool validate, BaselineContext context)
    {
        var k = trace.ParticleCount;
        if (k > 1)
        {
            surrogate = surrogate / k;
            cost = cost / k;
        }
        if (validate) SurrogateChecks.RequireFinite(trace, surrogate);
        var hasGradient = surrogate.requires_grad;
        surrogate = JoinedToLeaf(surrogate);
        return new SurrogateObjective(surrogate, cost.detach())
        {
            HasGradient = hasGradient,
            BaselineLoss = SumOf(context.BaselineLosses),
        };
    }

    /// <summary>
    /// <paramref name="loss"/>, or, when nothing in it has a gradient (and gradients are recorded), the same value joined
    /// to a fresh zero leaf: <c>backward()</c> is then a no-op instead of a native error, and <c>torch.autograd.grad</c>
    /// with <c>allow_unused: true</c> answers no gradient instead of terminating the process. Every objective's loss
    /// passes through it.
    /// </summary>
    internal static Tensor JoinedToLeaf(Tensor loss) =>
        loss.requires_grad || !is_grad_enabled() ? loss : loss + zeros([], loss.dtype, loss.device, requires_grad: true);

    /// <summary>Builds the surrogate of a run's trace; see <see cref="Build"/>.</summary>
    /// <param name="trace">A trace recorded by an interpreter.</param>
    /// <param name="options">Baseline and other options; defaults when null.</param>
    public static SurrogateObjective ToSurrogate(this Trace trace, SurrogateOptions? options = null) => Build(trace, options);

    /// <summary>
    /// The general path (independent products, any baselines, plates reopened after a node that mixes their elements): one cost-to-go per site from the reverse walk; the
    /// per-node sums are stacked and added once, so the autograd graph has no chain of N additions.
    /// </summary>
    private static (Tensor? Cost, Tensor? Score) PerSite(Trace trace, BaselineContext? signals)
    {
        var terms = new List<Tensor>();
        CostToGo.Walk(trace, s => s.IsScoreFunction, (site, q) =>
        {
            var signal = signals is null ? q : LearningSignal.Of(site, q, signals);
            terms.Add(site.Reduced!.mul(signal).sum());
        });
        return (SumOf(Costs(trace)), SumOf(terms));
    }

    /// <summary>Plain REINFORCE: every score-function site's signal is the total cost of the run.</summary>
    private static (Tensor? Cost, Tensor? Score) TotalCost(Trace trace, BaselineContext? signals)
    {
        var cost = SumOf(Costs(trace));
        if (cost is null) return (null, null);
        // with particles, each particle's own total (particles are independent runs; leave-one-out sees the others')
        var total = trace.ParticlePlate is { } particles ? PlateReduction.PerParticle(trace, CostOf, particles)!.detach() : cost.detach();
        var terms = new List<Tensor>();
        foreach (var node in trace.Nodes)
        {
            if (node is not SampleNode { IsScoreFunction: true } site) continue;
            var signal = signals is null ? total : LearningSignal.Of(site, total, signals);
            terms.Add(site.Reduced!.mul(signal).sum());
        }
        return (cost, SumOf(terms));
    }

    /// <summary>A cost's or an observation's contribution to the total cost (−log p for an observation), or null.</summary>
    internal static Tensor? CostOf(TraceNode node) => node switch
    {
        CostNode => node.Reduced!,
        ObserveNode => node.Reduced!.neg(),
        _ => null,
    };

    private static List<Tensor> Costs(Trace trace)
    {
        var costs = new List<Tensor>();
        foreach (var node in trace.Nodes)
            if (CostOf(node) is { } c) costs.Add(c.sum());
        return costs;
    }

    private static Tensor? SumOf(List<Tensor> scalars) => scalars.Count switch
    {
        0 => null,
        1 => scalars[0],
        _ => stack(scalars).sum(),
    };

    internal static Tensor Zero(Trace trace)
    {
        foreach (var n in trace.Nodes)
            if (n is SampleNode s) return zeros([], s.LogProb.dtype, s.LogProb.device);
        return zeros([]);
    }
}
