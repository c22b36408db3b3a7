using System;
using System.Collections.Generic;
using Scg.Tracing;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>
/// The surrogate of a trace with a number of tensor operations that grows with the number of distinct plate
/// layouts, not with the number of sites. Costs (observations as −log p) of one plate set are stacked newest
/// first; one cumulative sum gives their suffix sums, so the sum of the costs with group positions [lo, hi) is
/// row (n − lo) minus row (n − hi) (row 0 is zero). A site's downstream costs are a few such ranges
/// (<see cref="DownstreamRanges"/>): one, [start, n), outside independent products. Score-function sites of
/// one plate set are stacked too, and gather their cost-to-go with one index per cost group; baselines apply to the
/// stacked rows (<see cref="LearningSignal"/>), in one call when the group shares a stackable one. Every reduced
/// tensor has the run's plate rank, so parts from different plate sets line up axis by axis.
/// </summary>
internal static class VectorizedSurrogate
{
    private static readonly Scalar One = 1.0;

    public static (Tensor? Cost, Tensor? Score) Build(Trace trace, BaselineContext? signals)
    {
        var costs = new List<Group>();
        var sites = new List<Group>();
        var ordinal = 0;
        foreach (var node in trace.Nodes)
        {
            switch (node)
            {
                case CostNode:
                    GroupOf(costs, node).Add(node.Reduced!, ordinal++);
                    break;
                case ObserveNode:
                    GroupOf(costs, node).Add(node.Reduced!.neg(), ordinal++);
                    break;
                case SampleNode { IsScoreFunction: true } site:
                    GroupOf(sites, node).Add(node.Reduced!, ordinal, site);
                    break;
            }
        }

        Tensor? cost = null;
        var ranges = sites.Count > 0 && trace.HasProducts ? new DownstreamRanges(trace) : null;
        // one site per group outside products (a plain VAE or ELBO): each cost-to-go is one narrowed sum, no cumulative sums
        var single = ranges is null && sites.TrueForAll(s => s.Keys.Count == 1);
        var suffix = new Tensor[costs.Count];
        for (var g = 0; g < costs.Count; g++)
        {
            var values = costs[g].Tensors;
            values.Reverse();
            var stacked = values.Count == 1 ? values[0].unsqueeze(0) : stack(values);
            cost = cost is null ? stacked.sum() : cost + stacked.sum();
            if (sites.Count == 0) continue;
            if (single)
            {
                suffix[g] = stacked;
                continue;
            }
            using var _ = no_grad();
            using var running = stacked.cumsum(0);
            suffix[g] = PadFront(running);
        }
        if (sites.Count == 0) return (cost, null);

        Tensor? score = null;
        foreach (var group in sites)
        {
            if (single)
            {
                // one site: its cost-to-go and signal at the site's own shape, with no group dimension to add and remove
                var only = SingleSiteTerm(group, costs, suffix, trace, signals);
                if (only is not null) score = score is null ? only : score + only;
                continue;
            }
            Tensor? q = null;
            for (var g = 0; g < costs.Count; g++)
            {
                var downstream = ranges is null ? Suffixes(group, costs[g], suffix[g]) : InRanges(group, costs[g], suffix[g], ranges);
                var part = PlateReduction.Marginalise(downstream, costs[g].Mask, group.Mask, trace.Plates);
                q = q is null ? part : q + part;
            }
            if (q is null) continue;
            if (signals is not null) q = LearningSignal.OfGroup(group.Sites, q, group.Shape, signals);
            // one site: a view with the group dimension, not a copy
            using var logProbs = group.Tensors.Count == 1 ? group.Tensors[0].unsqueeze(0) : stack(group.Tensors);
            var term = logProbs.mul(q).sum();
            score = score is null ? term : score + term;
        }
        return (cost, score);
    }

    /// <summary>
    /// The score term sum(log p · signal) of a group's only site (outside products): the cost-to-go is, per cost group,
    /// the detached sum of the costs recorded after the site (<see cref="After"/>) without the leading row dimension,
    /// marginalised to the site's plates; the signal subtracts the site's baseline or takes its critic's estimate.
    /// </summary>
    private static Tensor? SingleSiteTerm(Group group, List<Group> costs, Tensor[] stacked, Trace trace, BaselineContext? signals)
    {
        Tensor? q = null;
        for (var g = 0; g < costs.Count; g++)
        {
            var part = PlateReduction.Marginalise(After(group, costs[g], stacked[g]), costs[g].Mask, group.Mask, trace.Plates);
            q = q is null ? part : q + part;
        }
        if (q is null) return null;
        var site = group.Sites[0];
        var signal = signals is null ? q : LearningSignal.Of(site, q, signals);
        using var weighted = group.Tensors[0].mul(signal);
        return weighted.sum();
    }

    /// <summary>
    /// Outside independent products the costs downstream of a site are all the costs after it: row k is the
    /// suffix sum from the first cost of the group recorded after the k-th site.
    /// </summary>
    private static Tensor Suffixes(Group sites, Group costs, Tensor suffix)
    {
        var n = costs.Keys.Count;
        var rows = new long[sites.Keys.Count];
        for (var k = 0; k < rows.Length; k++) rows[k] = n - costs.PositionOf(sites.Keys[k]);
        using var index = tensor(rows, device: suffix.device);
        return suffix.index_select(0, index);
    }

    /// <summary>
    /// The detached sum over dimension 0 of the costs of a group recorded after a group's only site: the first rows of
    /// the newest-first <paramref name="stacked"/> (zero when there are none, as a suffix sum), at the costs' shape.
    /// </summary>
    private static Tensor After(Group sites, Group costs, Tensor stacked)
    {
        var rows = costs.Keys.Count - costs.PositionOf(sites.Keys[0]);
        using var _ = no_grad();
        if (rows == 0) return zeros(costs.Shape, stacked.dtype, stacked.device);
        if (rows == costs.Keys.Count) return stacked.sum(0, keepdim: false);   // every cost of the group comes after the site
        using var after = stacked.narrow(0, 0, rows);
        return after.sum(0, keepdim: false);
    }

    /// <summary>
    /// With independent products, row k sums the group's costs over each range downstream of the k-th site:
    /// every (site, range) pair is a difference of two suffix rows, added into the site's row with one scatter.
    /// </summary>
    private static Tensor InRanges(Group sites, Group costs, Tensor suffix, DownstreamRanges ranges)
    {
        var n = costs.Keys.Count;
        var owner = new List<long>();
        var from = new List<long>();
        var to = new List<long>();
        for (var k = 0; k < sites.Sites.Count; k++)
        {
            for (var r = ranges.Of(sites.Sites[k]); r is not null; r = r.Next)
            {
                var (lo, hi) = (costs.PositionOf(r.Lo), costs.PositionOf(r.Hi));
                if (lo == hi) continue;
                owner.Add(k);
                from.Add(n - lo);
                to.Add(n - hi);
            }
        }
        var shape = suffix.shape;
        shape[0] = sites.Keys.Count;
        var q = zeros(shape, suffix.dtype, suffix.device);
        if (owner.Count == 0) return q;
        using var ownerIndex = tensor(owner.ToArray(), device: suffix.device);
        using var fromIndex = tensor(from.ToArray(), device: suffix.device);
        using var toIndex = tensor(to.ToArray(), device: suffix.device);
        using var sums = suffix.index_select(0, fromIndex) - suffix.index_select(0, toIndex);
        return q.index_add_(0, ownerIndex, sums, One);
    }

    /// <summary>A zero row in front of dimension 0.</summary>
    private static Tensor PadFront(Tensor t)
    {
        var padding = new long[2 * t.Dimensions];
        padding[^2] = 1;   // pairs run from the last dimension to the first: (before, after) of dim 0 come last
        return nn.functional.pad(t, padding);
    }

    private static Group GroupOf(List<Group> groups, TraceNode node)
    {
        foreach (var g in groups)
            if (g.Mask == node.PlateMask && g.Shape.AsSpan().SequenceEqual(node.ReducedShape)) return g;
        var group = new Group(node.PlateMask, node.ReducedShape);
        groups.Add(group);
        return group;
    }

    /// <summary>
    /// Nodes of one plate set and shape, in program order (stacking promotes mixed dtypes, so shape and plates
    /// decide): their tensors and a cost ordinal each (a cost's own; for a site, the number of costs before it).
    /// </summary>
    private sealed class Group(ulong mask, long[] shape)
    {
        public ulong Mask { get; } = mask;

        public long[] Shape { get; } = shape;

        public List<Tensor> Tensors { get; } = [];

        public List<int> Keys { get; } = [];

        /// <summary>The sites of a group of score-function sites.</summary>
        public List<SampleNode> Sites { get; } = [];

        public void Add(Tensor t, int key, SampleNode? site = null)
        {
            Tensors.Add(t);
            Keys.Add(key);
            if (site is not null) Sites.Add(site);
        }

        /// <summary>How many of the group's costs have an ordinal below <paramref name="ordinal"/>.</summary>
        public int PositionOf(int ordinal)
        {
            var i = Keys.BinarySearch(ordinal);
            return i >= 0 ? i : ~i;
        }
    }
}
