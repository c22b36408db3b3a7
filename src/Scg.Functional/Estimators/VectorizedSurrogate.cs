using System;
using System.Collections.Generic;
using System.Linq;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>
/// The surrogate of a trace without independent products, built with a number of tensor operations that does
/// not grow with the number of sites: costs are stacked per plate set, their suffix sums come from one
/// reverse cumulative sum, and each group of like-shaped score-function sites gathers its cost-to-go with one
/// index and multiplies it with its stacked log-probabilities. Equal to the per-site walk up to the order of
/// floating-point additions.
/// </summary>
internal static class VectorizedSurrogate
{
    public static (Tensor? Cost, Tensor? Score) Build(Trace trace)
    {
        var costGroups = new List<CostGroup>();
        var siteGroups = new List<SiteGroup>();
        var counts = new List<int>();
        foreach (var node in trace.Nodes)
        {
            switch (node)
            {
                case CostNode c:
                    Group(costGroups, counts, node.PlateMask, c.Value).Add(c.Value);
                    break;
                case ObserveNode o:
                    var lp = PlateReduction.KeepPlates(o.LogProb, o.Plates).neg();
                    Group(costGroups, counts, node.PlateMask, lp).Add(lp);
                    break;
                case SampleNode { IsScoreFunction: true } s:
                    var slp = PlateReduction.KeepPlates(s.LogProb, s.Plates);
                    SiteGroupFor(siteGroups, s.PlateMask, slp).Add(slp, counts);
                    break;
            }
        }

        Tensor? cost = null;
        var suffix = new Tensor[costGroups.Count];
        for (var g = 0; g < costGroups.Count; g++)
        {
            var stacked = stack(costGroups[g].Values);
            var sum = stacked.sum();
            cost = cost is null ? sum : cost + sum;
            if (siteGroups.Count == 0) continue;
            using var detached = stacked.detach();
            using var reversed = detached.flip(0).cumsum(0).flip(0);
            using var zero = zeros_like(reversed[..1]);
            suffix[g] = cat([reversed, zero], 0);
        }

        Tensor? score = null;
        foreach (var group in siteGroups)
        {
            var lps = stack(group.LogProbs);
            Tensor? q = null;
            for (var g = 0; g < costGroups.Count; g++)
            {
                using var index = tensor(group.StartIndices(g), device: suffix[g].device);
                var part = PlateReduction.Marginalise(suffix[g].index_select(0, index), costGroups[g].Mask, group.Mask, trace.Plates);
                q = q is null ? part : q + part;
            }
            if (q is null) continue;
            var rank = (int)Math.Max(lps.dim(), q.dim());
            var term = AlignRank(lps, rank).mul(AlignRank(q, rank)).sum();
            score = score is null ? term : score + term;
        }
        return (cost, score);
    }

    /// <summary>Inserts size-1 dimensions after the leading (stacking) dimension up to <paramref name="rank"/>.</summary>
    private static Tensor AlignRank(Tensor t, int rank)
    {
        if (t.dim() == rank) return t;
        var shape = new long[rank];
        var pad = rank - (int)t.dim();
        shape[0] = t.shape[0];
        for (var i = 1; i < rank; i++) shape[i] = i <= pad ? 1 : t.shape[i - pad];
        return t.view(shape);
    }

    private static CostGroup Group(List<CostGroup> groups, List<int> counts, ulong mask, Tensor value)
    {
        for (var i = 0; i < groups.Count; i++)
            if (groups[i].Mask == mask && groups[i].DType == value.dtype && groups[i].Shape.AsSpan().SequenceEqual(value.shape))
            {
                counts[i]++;
                return groups[i];
            }
        var group = new CostGroup(mask, value.dtype, value.shape);
        groups.Add(group);
        counts.Add(1);
        return group;
    }

    private static SiteGroup SiteGroupFor(List<SiteGroup> groups, ulong mask, Tensor lp)
    {
        foreach (var g in groups)
            if (g.Mask == mask && g.DType == lp.dtype && g.Shape.AsSpan().SequenceEqual(lp.shape)) return g;
        var group = new SiteGroup(mask, lp.dtype, lp.shape);
        groups.Add(group);
        return group;
    }

    private sealed record CostGroup(ulong Mask, ScalarType DType, long[] Shape)
    {
        public List<Tensor> Values { get; } = [];

        public void Add(Tensor value) => Values.Add(value);
    }

    /// <summary>Score-function sites of one plate set and shape, with the number of each cost group's
    /// entries recorded before each site (the index of the first cost downstream of it).</summary>
    private sealed record SiteGroup(ulong Mask, ScalarType DType, long[] Shape)
    {
        private readonly List<int[]> starts = [];

        public List<Tensor> LogProbs { get; } = [];

        public void Add(Tensor logProb, List<int> counts)
        {
            LogProbs.Add(logProb);
            starts.Add([.. counts]);
        }

        public long[] StartIndices(int costGroup)
        {
            var result = new long[starts.Count];
            for (var i = 0; i < result.Length; i++)
                result[i] = costGroup < starts[i].Length ? starts[i][costGroup] : 0;
            return result;
        }
    }
}
