using System;
using System.Collections.Generic;
using System.Linq;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>
/// The surrogate of a trace without independent products, built with a number of tensor operations that does
/// not grow with the number of sites: costs are stacked per plate set and shape (newest first), their suffix
/// sums come from one cumulative sum, and each group of like-shaped score-function sites gathers its cost-to-go with one
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
                case CostNode:
                    Group(costGroups, counts, node).Add(node.Reduced!);
                    break;
                case ObserveNode:
                    Group(costGroups, counts, node).Add(node.Reduced!.neg());
                    break;
                case SampleNode { IsScoreFunction: true }:
                    SiteGroupFor(siteGroups, node).Add(node.Reduced!, counts);
                    break;
            }
        }

        // Costs are stacked newest first, so a cumulative sum gives suffix sums: with a zero row in front,
        // row n − i of a group of n costs is the sum of its costs from the i-th on (row 0 is "none left").
        Tensor? cost = null;
        var suffix = new Tensor[costGroups.Count];
        for (var g = 0; g < costGroups.Count; g++)
        {
            var values = costGroups[g].Values;
            values.Reverse();
            var stacked = stack(values);
            var sum = stacked.sum();
            cost = cost is null ? sum : cost + sum;
            if (siteGroups.Count == 0) continue;
            using var _ = no_grad();
            using var running = stacked.cumsum(0);
            var padding = new long[2 * costGroups[g].Shape.Length + 2];
            padding[^2] = 1;
            suffix[g] = nn.functional.pad(running, padding);
        }

        Tensor? score = null;
        foreach (var group in siteGroups)
        {
            var lps = stack(group.LogProbs);
            Tensor? q = null;
            for (var g = 0; g < costGroups.Count; g++)
            {
                using var index = tensor(group.SuffixRows(g, costGroups[g].Values.Count), device: suffix[g].device);
                var part = PlateReduction.Marginalise(suffix[g].index_select(0, index), costGroups[g].Mask, group.Mask, trace.Plates, 1 + costGroups[g].Shape.Length);
                group.QRank = Math.Max(group.QRank, costGroups[g].Shape.Length);
                q = q is null ? part : q + part;
            }
            if (q is null) continue;
            var rank = 1 + Math.Max(group.Shape.Length, group.QRank);
            var term = AlignRank(lps, 1 + group.Shape.Length, rank).mul(AlignRank(q, 1 + group.QRank, rank)).sum();
            score = score is null ? term : score + term;
        }
        return (cost, score);
    }

    /// <summary>Inserts size-1 dimensions after the leading (stacking) dimension, from rank <paramref name="from"/> to <paramref name="rank"/>.</summary>
    private static Tensor AlignRank(Tensor t, int from, int rank)
    {
        if (from == rank) return t;
        var shape = t.shape;
        var aligned = new long[rank];
        var pad = rank - from;
        aligned[0] = shape[0];
        for (var i = 1; i < rank; i++) aligned[i] = i <= pad ? 1 : shape[i - pad];
        return t.view(aligned);
    }

    private static CostGroup Group(List<CostGroup> groups, List<int> counts, TraceNode node)
    {
        for (var i = 0; i < groups.Count; i++)
            if (groups[i].Matches(node))
            {
                counts[i]++;
                return groups[i];
            }
        var group = new CostGroup(node.PlateMask, node.ReducedShape);
        groups.Add(group);
        counts.Add(1);
        return group;
    }

    private static SiteGroup SiteGroupFor(List<SiteGroup> groups, TraceNode node)
    {
        foreach (var g in groups)
            if (g.Matches(node)) return g;
        var group = new SiteGroup(node.PlateMask, node.ReducedShape);
        groups.Add(group);
        return group;
    }

    /// <summary>Nodes that can be stacked together: same plates and shape (stacking promotes mixed dtypes).</summary>
    private abstract record Stackable(ulong Mask, long[] Shape)
    {
        public bool Matches(TraceNode node) =>
            Mask == node.PlateMask && Shape.AsSpan().SequenceEqual(node.ReducedShape);
    }

    private sealed record CostGroup(ulong Mask, long[] Shape) : Stackable(Mask, Shape)
    {
        public List<Tensor> Values { get; } = [];

        public void Add(Tensor value) => Values.Add(value);
    }

    /// <summary>Score-function sites of one plate set and shape, with the number of each cost group's
    /// entries recorded before each site (the index of the first cost downstream of it).</summary>
    private sealed record SiteGroup(ulong Mask, long[] Shape) : Stackable(Mask, Shape)
    {
        private readonly List<int[]> starts = [];

        /// <summary>The largest rank of the cost groups summed into this group's cost-to-go.</summary>
        public int QRank { get; set; }

        public List<Tensor> LogProbs { get; } = [];

        public void Add(Tensor logProb, List<int> counts)
        {
            LogProbs.Add(logProb);
            starts.Add([.. counts]);
        }

        /// <summary>For each site, the row of the padded suffix sums of a cost group of <paramref name="costs"/>
        /// entries that holds the costs recorded after the site.</summary>
        public long[] SuffixRows(int costGroup, int costs)
        {
            var result = new long[starts.Count];
            for (var i = 0; i < result.Length; i++)
                result[i] = costs - (costGroup < starts[i].Length ? starts[i][costGroup] : 0);
            return result;
        }
    }
}
