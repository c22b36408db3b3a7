using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Scg.Tracing;

namespace Scg.Estimators;

/// <summary>
/// Which costs reach each score-function site's score term, for drawing and inspecting a trace: the costs and
/// observations downstream of the site (<see cref="DownstreamRanges"/>, the ranges the vectorised surrogate sums), or
/// every cost under <see cref="SurrogateOptions.TotalCost"/>; and, per cost, the shared plates across which the
/// reverse walk (<see cref="CostToGo"/>) credits it summed rather than element by element (a carrier in the sense of
/// <see cref="PlateMixing.Carries"/> outside the plate lies between site and cost). Quadratic in the trace's size:
/// meant for pictures and tests, not for estimators.
/// </summary>
public static class Credit
{
    /// <summary>The credit of every score-function site of <paramref name="trace"/>, in program order.</summary>
    /// <param name="trace">The trace.</param>
    /// <param name="options">Surrogate options; only <see cref="SurrogateOptions.TotalCost"/> changes the answer.</param>
    public static ImmutableArray<SiteCredit> Of(Trace trace, SurrogateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var costs = trace.Nodes.Where(n => n is CostNode or ObserveNode).ToList();
        var sites = trace.Samples.Where(s => s.IsScoreFunction).ToList();
        if (sites.Count == 0) return [];
        var totalCost = options?.TotalCost ?? false;
        var ranges = totalCost ? null : new DownstreamRanges(trace);
        var result = ImmutableArray.CreateBuilder<SiteCredit>(sites.Count);
        foreach (var site in sites)
        {
            var credited = ImmutableArray.CreateBuilder<CostCredit>();
            if (totalCost)
            {
                foreach (var c in costs) credited.Add(new CostCredit(c, []));
            }
            else
            {
                for (var r = ranges!.Of(site); r is not null; r = r.Next)
                    for (var k = r.Lo; k < r.Hi; k++)
                        credited.Add(new CostCredit(costs[k], SummedOver(trace, site, costs[k])));
            }
            result.Add(new SiteCredit(site, credited.ToImmutable()));
        }
        return result.MoveToImmutable();
    }

    /// <summary>
    /// The plates shared by <paramref name="site"/> and <paramref name="cost"/> that some carrier downstream of the site,
    /// with the cost downstream of it, lacks: the reverse walk mixes the running sums at that carrier.
    /// </summary>
    private static ImmutableArray<PlateFrame> SummedOver(Trace trace, SampleNode site, TraceNode cost)
    {
        var shared = site.PlateMask & cost.PlateMask;
        if (shared == 0) return [];
        var mixed = 0UL;
        for (var i = site.Index + 1; i < cost.Index; i++)
        {
            var n = trace.Nodes[i];
            if (PlateMixing.Carries(n) && trace.IsDownstream(site, n) && Downstream(n, cost))
                mixed |= shared & ~n.PlateMask;
        }
        return mixed == 0 ? [] : [.. trace.Plates.Where(p => (mixed & (1UL << p.Id)) != 0)];
    }

    /// <summary>True when <paramref name="node"/> is recorded after <paramref name="carrier"/> outside other branches of its products.</summary>
    private static bool Downstream(TraceNode carrier, TraceNode node) =>
        node.Index > carrier.Index && !BranchPath.Separated(carrier.Branch, node.Branch);
}
