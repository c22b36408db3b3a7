using System.Collections.Generic;
using Scg.Tracing;

namespace Scg.Estimators;

/// <summary>
/// Which costs are downstream of each sample site, as ranges of cost ordinals. Costs (and observations) are
/// numbered 0, 1, … in program order. Inside an independent product every branch occupies a contiguous run of
/// ordinals, so the costs downstream of a site are: those after it up to the end of its branch, then those after
/// that product up to the end of the enclosing branch, and so on out to the end of the trace. Adjacent ranges are
/// merged and empty ones dropped, so a site outside products has the single range [start, total).
/// </summary>
internal sealed class DownstreamRanges
{
    private readonly List<int> branchEnds = [];   // by product's first branch slot + branch index
    private readonly List<int> firstSlot = [];    // by product id
    private readonly Dictionary<BranchPath, Range?> tails = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<int, int> startOf = [];

    /// <summary>Numbers the costs of <paramref name="trace"/> and finds where every branch and product ends.</summary>
    public DownstreamRanges(Trace trace)
    {
        // An explicit stack instead of recursion: products may nest as deeply as the model recursed.
        var stack = new Stack<(TraceBlock Block, int Item, int Product, int Branch)>();
        stack.Push((trace.Root, 0, -1, -1));
        var ordinal = 0;
        var products = 0;
        while (stack.Count > 0)
        {
            var (block, item, product, branch) = stack.Pop();
            if (item == block.Items.Count)
            {
                if (product >= 0) branchEnds[firstSlot[product] + branch] = ordinal;
                continue;
            }
            stack.Push((block, item + 1, product, branch));
            var entry = block.Items[item];
            if (entry.Branches is { } branches)
            {
                var id = products++;
                firstSlot.Add(branchEnds.Count);
                for (var b = 0; b < branches.Length; b++) branchEnds.Add(0);
                for (var b = branches.Length - 1; b >= 0; b--) stack.Push((branches[b], 0, id, b));
                continue;
            }
            var node = trace.Nodes[entry.Node];
            if (node is CostNode or ObserveNode) ordinal++;
            else if (node is SampleNode) startOf[node.Index] = ordinal;
        }
        Total = ordinal;
    }

    /// <summary>The number of costs and observations in the trace.</summary>
    public int Total { get; }

    /// <summary>The ranges of cost ordinals downstream of a sample site, first to last.</summary>
    public Range? Of(SampleNode site)
    {
        var start = startOf[site.Index];
        return site.Branch is { } path ? Range.Prepend(start, BranchEnd(path), Tail(path)) : Range.Prepend(start, Total, null);
    }

    private int BranchEnd(BranchPath path) => branchEnds[firstSlot[path.Product] + path.BranchIndex];

    private int ProductEnd(BranchPath path) => branchEnds[firstSlot[path.Product] + Count(path.Product) - 1];

    private int Count(int product) =>
        (product + 1 < firstSlot.Count ? firstSlot[product + 1] : branchEnds.Count) - firstSlot[product];

    /// <summary>The ranges after the product of <paramref name="path"/>, shared by every site of that branch.</summary>
    private Range? Tail(BranchPath path)
    {
        // Walk out to the nearest branch whose tail is known, then fill in the tails on the way back.
        var pending = new List<BranchPath>();
        Range? known = null;
        for (var p = path; p is not null; p = p.Parent)
        {
            if (tails.TryGetValue(p, out known)) break;
            pending.Add(p);
        }
        for (var i = pending.Count - 1; i >= 0; i--)
        {
            var p = pending[i];
            var end = p.Parent is { } parent ? BranchEnd(parent) : Total;
            known = Range.Prepend(ProductEnd(p), end, known);
            tails[p] = known;
        }
        return known;
    }

    /// <summary>A range [Lo, Hi) of cost ordinals followed by later ranges (an immutable list, shared between sites).</summary>
    internal sealed class Range(int lo, int hi, Range? next)
    {
        public int Lo { get; } = lo;

        public int Hi { get; } = hi;

        public Range? Next { get; } = next;

        /// <summary>[lo, hi) in front of <paramref name="rest"/>: dropped when empty, merged when it meets rest's first range.</summary>
        public static Range? Prepend(int lo, int hi, Range? rest)
        {
            if (lo >= hi) return rest;
            return rest is not null && rest.Lo == hi ? new Range(lo, rest.Hi, rest.Next) : new Range(lo, hi, rest);
        }
    }
}
