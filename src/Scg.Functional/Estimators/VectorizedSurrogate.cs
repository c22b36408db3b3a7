using System;
using System.Collections.Generic;
using System.Linq;
using Scg.Tracing;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>
/// The surrogate of a trace, built with a number of tensor operations that does not grow with the number of
/// sites: costs are stacked per plate set and shape (newest first), their suffix
/// sums come from one cumulative sum, and each group of like-shaped score-function sites gathers its cost-to-go with one
/// index and multiplies it with its stacked log-probabilities. Inside independent products, the costs in later
/// branches of a site's products (recorded after it but not downstream of it) are summed per branch with one
/// scatter, and taken away. Equal to the per-site walk up to the order of floating-point additions.
/// </summary>
internal static class VectorizedSurrogate
{
    private static readonly Scalar One = 1.0;

    public static (Tensor? Cost, Tensor? Score) Build(Trace trace)
    {
        var costGroups = new List<CostGroup>();
        var siteGroups = new List<SiteGroup>();
        var counts = new List<int>();
        var branches = trace.HasProducts ? new ProductBranches(trace) : null;
        foreach (var node in trace.Nodes)
        {
            switch (node)
            {
                case CostNode:
                    Group(costGroups, counts, node).Add(node.Reduced!, node.Branch, branches);
                    break;
                case ObserveNode:
                    Group(costGroups, counts, node).Add(node.Reduced!.neg(), node.Branch, branches);
                    break;
                case SampleNode { IsScoreFunction: true }:
                    SiteGroupFor(siteGroups, node).Add(node.Reduced!, counts, node.Branch, branches);
                    break;
            }
        }

        // Costs are stacked newest first, so a cumulative sum gives suffix sums: with a zero row in front,
        // row n − i of a group of n costs is the sum of its costs from the i-th on (row 0 is "none left").
        Tensor? cost = null;
        var suffix = new Tensor[costGroups.Count];
        var later = new Tensor?[costGroups.Count];
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
            suffix[g] = PadFront(running, costGroups[g].Shape.Length);
            if (branches is not null && costGroups[g].InBranches) later[g] = LaterSiblingSums(costGroups[g], stacked, branches);
        }

        // Every reduced tensor has the run's plate rank (PlateRank), so the parts of a cost-to-go from cost groups
        // of different plates line up axis by axis after the stacking dimension.
        Tensor? score = null;
        foreach (var group in siteGroups)
        {
            Tensor? q = null;
            for (var g = 0; g < costGroups.Count; g++)
            {
                using var index = tensor(group.SuffixRows(g, costGroups[g].Values.Count), device: suffix[g].device);
                var downstream = suffix[g].index_select(0, index);
                if (later[g] is { } siblings && group.InBranches)
                    downstream = downstream - group.Separated(siblings, branches!);
                var part = PlateReduction.Marginalise(downstream, costGroups[g].Mask, group.Mask, trace.Plates);
                q = q is null ? part : q + part;
            }
            if (q is null) continue;
            var term = stack(group.LogProbs).mul(q).sum();
            score = score is null ? term : score + term;
        }
        return (cost, score);
    }

    /// <summary>A zero row in front of dimension 0.</summary>
    private static Tensor PadFront(Tensor t, int innerRank)
    {
        var padding = new long[2 * innerRank + 2];
        padding[^2] = 1;
        return nn.functional.pad(t, padding);
    }

    /// <summary>
    /// For every product branch b, the group's costs in the later branches of b's product, as rows of a tensor
    /// with a zero row in front: row (B − b − 1) − row (B − last(b) − 1), B the number of branches, is that sum.
    /// A cost counts in each branch on its path.
    /// </summary>
    private static Tensor LaterSiblingSums(CostGroup group, Tensor stackedNewestFirst, ProductBranches branches)
    {
        var n = group.Values.Count;
        var (rows, ids) = group.Memberships(n);
        using var rowIndex = tensor(rows, device: stackedNewestFirst.device);
        using var branchIndex = tensor(ids, device: stackedNewestFirst.device);
        using var members = stackedNewestFirst.index_select(0, rowIndex);
        var shape = stackedNewestFirst.shape;
        shape[0] = branches.Count;
        using var totals = zeros(shape, stackedNewestFirst.dtype, stackedNewestFirst.device).index_add_(0, branchIndex, members, One);
        using var fromLast = totals.flip(0).cumsum(0);
        return PadFront(fromLast, group.Shape.Length);
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
        private readonly List<int> memberCosts = [];
        private readonly List<int> memberBranches = [];

        public List<Tensor> Values { get; } = [];

        /// <summary>True when some cost of the group lies inside an independent product.</summary>
        public bool InBranches => memberCosts.Count > 0;

        public void Add(Tensor value, BranchPath? path, ProductBranches? branches)
        {
            if (branches is not null && path is not null)
            {
                var start = memberBranches.Count;
                branches.BranchesOf(path, memberBranches);
                for (var i = start; i < memberBranches.Count; i++) memberCosts.Add(Values.Count);
            }
            Values.Add(value);
        }

        /// <summary>(row in the newest-first stack of <paramref name="n"/> costs, branch) for every branch of every cost.</summary>
        public (long[] Rows, long[] Branches) Memberships(int n) =>
            (memberCosts.Select(k => (long)(n - 1 - k)).ToArray(), memberBranches.Select(b => (long)b).ToArray());
    }

    /// <summary>Score-function sites of one plate set and shape, with the number of each cost group's
    /// entries recorded before each site (the index of the first cost downstream of it).</summary>
    private sealed record SiteGroup(ulong Mask, long[] Shape) : Stackable(Mask, Shape)
    {
        private readonly List<int[]> starts = [];

        public List<Tensor> LogProbs { get; } = [];

        private readonly List<int> pairSites = [];
        private readonly List<int> pairBranches = [];

        /// <summary>True when some site of the group lies inside an independent product.</summary>
        public bool InBranches => pairSites.Count > 0;

        public void Add(Tensor logProb, List<int> counts, BranchPath? path, ProductBranches? branches)
        {
            if (branches is not null && path is not null)
            {
                var start = pairBranches.Count;
                branches.BranchesOf(path, pairBranches);
                for (var i = start; i < pairBranches.Count; i++) pairSites.Add(LogProbs.Count);
            }
            LogProbs.Add(logProb);
            starts.Add([.. counts]);
        }

        /// <summary>
        /// For each site, the costs after it that lie in later branches of the products it is inside (not
        /// downstream of it): one per product on its path, summed.
        /// </summary>
        public Tensor Separated(Tensor laterSums, ProductBranches branches)
        {
            var b = (long)branches.Count;
            var upTo = pairBranches.Select(x => b - x - 1).ToArray();
            var beyond = pairBranches.Select(x => b - branches.LastSibling(x) - 1).ToArray();
            using var upToIndex = tensor(upTo, device: laterSums.device);
            using var beyondIndex = tensor(beyond, device: laterSums.device);
            using var sitesIndex = tensor(pairSites.Select(i => (long)i).ToArray(), device: laterSums.device);
            using var a = laterSums.index_select(0, upToIndex);
            using var c = laterSums.index_select(0, beyondIndex);
            using var perPair = a - c;
            var shape = laterSums.shape;
            shape[0] = LogProbs.Count;
            return zeros(shape, laterSums.dtype, laterSums.device).index_add_(0, sitesIndex, perPair, One);
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
