using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>
/// The cost-to-go of sample sites: for site s, the sum of the costs downstream of s (costs recorded after s,
/// outside other branches of an independent product), element by element inside shared plates, summed over
/// the costs' other plates and broadcast over the site's. Across a reopened plate, a cost is credited summed over
/// the plate when a sample, cost or observation outside the plate lies between site and cost (it may read all
/// of the site's elements). Observations count as costs of −log p. Computed for all sites in one reverse pass
/// over the trace, linear in its size.
/// </summary>
public static class CostToGo
{
    /// <summary>
    /// The detached cost-to-go of every sample site selected by <paramref name="include"/> (all when null), by
    /// site name, shaped by the plates around the site: its rank is the deepest of them, a plate at dim d is
    /// axis d, other axes have size 1 (a site outside every plate gets a scalar).
    /// </summary>
    /// <param name="trace">The trace.</param>
    /// <param name="include">Which sites need a cost-to-go.</param>
    public static IReadOnlyDictionary<string, Tensor> Compute(Trace trace, Func<SampleNode, bool>? include = null)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        Walk(trace, include ?? (_ => true), (site, q) =>
        {
            result[site.Name] = AtSiteRank(q, site);
        });
        return result;
    }

    /// <summary>Calls <paramref name="visit"/> with each included site and its detached cost-to-go, in reverse program order.</summary>
    internal static void Walk(Trace trace, Func<SampleNode, bool> include, Action<SampleNode, Tensor> visit) =>
        new Walker(trace, include, visit).Run();

    /// <summary>
    /// <paramref name="q"/> (at the run's plate rank) expanded to the site's reduced shape and viewed at the rank
    /// of the site's own plates; the axes dropped have size 1.
    /// </summary>
    internal static Tensor AtSiteRank(Tensor q, SampleNode site)
    {
        var full = q.expand(Distributions.Shapes.Broadcast(q.shape, site.ReducedShape));
        var shape = SiteRankShape(site, full.shape);
        return shape.Length == full.shape.Length ? full : full.reshape(shape);
    }

    /// <summary>
    /// The shape of <see cref="AtSiteRank"/>'s result for a cost-to-go of shape <paramref name="qShape"/>, computed
    /// without touching a tensor: the broadcast of the two shapes at the rank of the site's plates, or further
    /// left where enumeration dimensions (of the site's ancestors, or of costs after it) have sizes above 1.
    /// </summary>
    internal static long[] SiteRankShape(SampleNode site, long[]? qShape = null)
    {
        var shape = qShape is null ? site.ReducedShape : Distributions.Shapes.Broadcast(qShape, site.ReducedShape);
        var rank = PlateRank.Of(site.Plates);
        for (var i = 0; i < shape.Length - rank; i++)
            if (shape[i] != 1)
            {
                rank = shape.Length - i;
                break;
            }
        return rank == shape.Length ? shape : shape[^rank..];
    }

    /// <summary>The detached contribution of a node to downstream costs, or null for samples and params.</summary>
    internal static Tensor? Contribution(TraceNode node) => Surrogate.CostOf(node)?.detach();

    private sealed class Walker(Trace trace, Func<SampleNode, bool> include, Action<SampleNode, Tensor> visit)
    {
        private readonly ImmutableArray<PlateFrame> plates = trace.Plates;

        /// <summary>
        /// Walks the block tree backwards. A frame is a block being walked: <c>Tail</c> holds the costs after the
        /// block (downstream of all its nodes), <c>Own</c> those of the block seen so far. A product's branches are
        /// walked as child frames, each with the same tail (the product's siblings are not downstream of each
        /// other); their sums are added to the parent's own when each finishes. An explicit stack, not recursion:
        /// products nest as deeply as the model recursed.
        /// </summary>
        public void Run()
        {
            // with enumerated sites inside products: which enumerated sites each branch holds (see ExpectOver)
            var enumerated = trace.HasEnumeration && trace.HasProducts ? EnumeratedByBranch(trace) : null;
            var stack = new Stack<Frame>();
            stack.Push(new Frame(trace.Root, PlateSums.Empty));
            while (stack.Count > 0)
            {
                var frame = stack.Peek();
                if (frame.Branch is { } branches)
                {
                    if (frame.NextBranch < branches.Length)
                    {
                        var b = frame.NextBranch++;
                        // a branch's sites are credited with the costs after the product in expectation over the
                        // enumerated sites of the other branches (they are not downstream of those sites)
                        var outer = frame.Outer;
                        if (Array.IndexOf(frame.EnumeratedBranches, b) < 0)
                            outer = frame.OuterBeyondEnumerated;   // the same for every branch without enumerated sites
                        else
                            foreach (var other in frame.EnumeratedBranches)
                                if (other != b) outer = ExpectOver(outer, enumerated!, branches[other]);
                        stack.Push(new Frame(branches[b], outer));
                        continue;
                    }
                    // after the product: upstream of it, the costs after it are their expectation over the
                    // enumerated sites of every branch (element by element, so before the plate mixing below)
                    foreach (var other in frame.EnumeratedBranches)
                        (frame.Tail, frame.Own) = (ExpectOver(frame.Tail, enumerated!, branches[other]), ExpectOver(frame.Own, enumerated!, branches[other]));
                    // what follows the product is downstream of every branch's mixing nodes; the
                    // branches' own sums are not (siblings do not read each other)
                    frame.Tail = frame.Tail.Mix(frame.BranchMixed, plates);
                    frame.Own = frame.Own.Mix(frame.BranchMixed, plates).Plus(frame.FromBranches);
                    frame.Mixed |= frame.BranchMixed;
                    (frame.Branch, frame.FromBranches, frame.BranchMixed, frame.EnumeratedBranches) = (null, PlateSums.Empty, 0, Array.Empty<int>());
                }
                if (frame.Item < 0)
                {
                    stack.Pop();
                    if (stack.Count > 0)
                    {
                        var parent = stack.Peek();
                        parent.FromBranches = parent.FromBranches.Plus(frame.Own);
                        parent.BranchMixed |= frame.Mixed;
                    }
                    continue;
                }
                var item = frame.Block.Items[frame.Item--];
                if (item.Branches is { } children)
                {
                    (frame.Branch, frame.NextBranch, frame.Outer) = (children, 0, frame.Tail.Plus(frame.Own));
                    if (enumerated is not null)
                    {
                        frame.EnumeratedBranches = HoldingEnumerated(children, enumerated);
                        var beyond = frame.Outer;
                        foreach (var other in frame.EnumeratedBranches) beyond = ExpectOver(beyond, enumerated, children[other]);
                        frame.OuterBeyondEnumerated = beyond;
                    }
                    else frame.OuterBeyondEnumerated = frame.Outer;
                    continue;
                }
                var node = trace.Nodes[item.Node];
                if (node is SampleNode site)
                {
                    if (include(site)) visit(site, Reduce(frame.Tail.Plus(frame.Own), site));
                    if (site.IsEnumerated)
                    {
                        // upstream of an enumerated site, the costs after it are its expectation over its support
                        frame.Tail = Expect(frame.Tail, site);
                        frame.Own = Expect(frame.Own, site);
                    }
                }
                else if (Contribution(node) is { } c)
                {
                    frame.Own = frame.Own.Add(node.PlateMask, c);
                }
                if (PlateMixing.Carries(node))
                {
                    // a node outside a plate may read all its elements: the costs after it credit the sites before it
                    // summed over that plate, not element by element
                    (frame.Tail, frame.Own, var mixed) = PlateSums.MixOutside(frame.Tail, frame.Own, node.PlateMask, plates);
                    frame.Mixed |= mixed;
                }
            }
        }

        private sealed class Frame(TraceBlock block, PlateSums tail)
        {
            public TraceBlock Block { get; } = block;

            public PlateSums Tail { get; set; } = tail;

            public PlateSums Own { get; set; } = PlateSums.Empty;

            /// <summary>The next item to walk, counting down.</summary>
            public int Item { get; set; } = block.Items.Count - 1;

            /// <summary>The branches of the product being walked, if any, and the tail they share.</summary>
            public TraceBlock[]? Branch { get; set; }

            public int NextBranch { get; set; }

            public PlateSums Outer { get; set; } = PlateSums.Empty;

            /// <summary><see cref="Outer"/> in expectation over the enumerated sites of every branch: what a branch without any gets.</summary>
            public PlateSums OuterBeyondEnumerated { get; set; } = PlateSums.Empty;

            /// <summary>The indices of the product's branches that hold enumerated sites (few: their joint values are bounded).</summary>
            public int[] EnumeratedBranches { get; set; } = Array.Empty<int>();

            /// <summary>The own sums of the product's branches walked so far, merged once all are done.</summary>
            public PlateSums FromBranches { get; set; } = PlateSums.Empty;

            /// <summary>The plates the block's nodes mixed (<see cref="PlateSums.MixOutside"/>), for the block that holds it.</summary>
            public ulong Mixed { get; set; }

            /// <summary>The plates the product's branches walked so far mixed.</summary>
            public ulong BranchMixed { get; set; }
        }

        /// <summary>Σ_k p(k) · sums(k) over the enumerated site's dimension (detached weights; size-1 axis kept).</summary>
        private static PlateSums Expect(PlateSums sums, SampleNode site)
        {
            if (sums.Entries.IsEmpty) return sums;
            var p = site.Reduced!.detach().exp();
            var result = PlateSums.Empty;
            foreach (var (mask, sum) in sums.Entries) result = result.Add(mask, sum.mul(p).sum(site.EnumeratedDim, keepdim: true));
            return result;
        }

        /// <summary>
        /// <see cref="Expect"/> over the enumerated sites of <paramref name="block"/> (nested products included), the
        /// latest first, as the walk would pass them in a sequence.
        /// </summary>
        private static PlateSums ExpectOver(PlateSums sums, Dictionary<BranchPath, List<SampleNode>> enumerated, TraceBlock block)
        {
            if (block.Path is null || !enumerated.TryGetValue(block.Path, out var sites)) return sums;
            for (var i = sites.Count - 1; i >= 0; i--) sums = Expect(sums, sites[i]);
            return sums;
        }

        /// <summary>The indices of <paramref name="branches"/> that hold enumerated sites.</summary>
        private static int[] HoldingEnumerated(TraceBlock[] branches, Dictionary<BranchPath, List<SampleNode>> enumerated)
        {
            var result = new List<int>();
            for (var i = 0; i < branches.Length; i++)
                if (branches[i].Path is { } path && enumerated.ContainsKey(path)) result.Add(i);
            return [.. result];
        }

        /// <summary>
        /// For every product branch holding enumerated sites, those sites in program order, nested products included:
        /// each enumerated site is listed under the branches on its path (a run has few of them: their joint values
        /// are bounded).
        /// </summary>
        private static Dictionary<BranchPath, List<SampleNode>> EnumeratedByBranch(Trace trace)
        {
            var result = new Dictionary<BranchPath, List<SampleNode>>(ReferenceEqualityComparer.Instance);
            foreach (var node in trace.Nodes)
            {
                if (node is not SampleNode { IsEnumerated: true } site) continue;
                for (var path = site.Branch; path is not null; path = path.Parent)
                {
                    if (!result.TryGetValue(path, out var list)) result[path] = list = [];
                    list.Add(site);
                }
            }
            return result;
        }

        private Tensor Reduce(PlateSums acc, SampleNode site) =>
            acc.ReduceTo(site.PlateMask, plates) ?? zeros([], site.LogProb.dtype, site.LogProb.device);
    }
}
