using System;
using System.Collections.Generic;
using System.Linq;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>
/// The surrogate of a trace with enumerated sites. Every cost is weighted by the probabilities of the enumerated
/// sites upstream of it, exp(Σ log p), differentiable, and summed over their dimensions: Σ_k p(k) c(k), exact. A
/// score-function site downstream of enumerated ones gets its term in every enumerated branch, weighted by the
/// branch's probability (detached: its gradient is already in the costs' weights), with a cost-to-go that takes
/// the expectation over the enumerated sites after it (the reverse walk multiplies by their probabilities and
/// sums their dimensions as it passes them).
/// </summary>
internal static class EnumeratedSurrogate
{
    public static (Tensor? Cost, Tensor? Score) Build(Trace trace, BaselineContext? signals)
    {
        Check(trace);
        var costs = new List<Tensor>();
        var weights = new Dictionary<int, Tensor?>();
        UpstreamLogProb.Walk(trace, s => s.IsEnumerated, (node, tau) =>
        {
            switch (node)
            {
                case SampleNode { IsScoreFunction: true }:
                    weights[node.Index] = tau;
                    break;
                case CostNode or ObserveNode:
                    var c = Surrogate.CostOf(node)!;
                    costs.Add(tau is null ? c.sum() : tau.exp().mul(c).sum());
                    break;
            }
        }, visitSamples: true);

        var terms = new List<Tensor>();
        if (weights.Count == 0) return (SumOf(costs), null);   // no score-function site: the weighted costs are all
        CostToGo.Walk(trace, s => s.IsScoreFunction, (site, q) =>
        {
            var signal = signals is null ? q : LearningSignal.Of(site, q, signals);
            var term = site.Reduced!.mul(signal);
            if (weights.GetValueOrDefault(site.Index) is { } tau) term = term.mul(tau.detach().exp());
            terms.Add(term.sum());
        });
        return (SumOf(costs), SumOf(terms));
    }

    /// <summary>
    /// Enumeration inside a plate is per element: every node downstream of an enumerated site must lie in all of
    /// the site's plates (else it would depend on the joint values of several elements); a sibling branch of an
    /// independent product around the site is not downstream of it.
    /// </summary>
    public static void Check(Trace trace)
    {
        foreach (var node in trace.Nodes)
        {
            if (node is not SampleNode { IsEnumerated: true } site) continue;
            if (site.PlateMask == 0) continue;
            foreach (var later in trace.Nodes)
            {
                if (later is ParamNode || (site.PlateMask & ~later.PlateMask) == 0 || !trace.IsDownstream(site, later)) continue;
                var plate = site.Plates.First(p => !later.Plates.Contains(p));
                throw new ArgumentException(
                    $"Sample site '{site.Name}' is enumerated inside plate '{plate.Name}', but '{later.Name}', downstream of it, is outside that plate: " +
                    "it depends on the values of all the plate's elements at once, so the expectation does not factorise element by element. " +
                    "Enumerate the site outside the plate, move the downstream node into the plate, or sample the site (ScoreFunction).");
            }
        }
    }

    private static Tensor? SumOf(List<Tensor> scalars) => scalars.Count switch
    {
        0 => null,
        1 => scalars[0],
        _ => stack(scalars).sum(),
    };
}
