using System;
using System.Collections.Generic;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>
/// The mirror of <see cref="CostToGo"/>: for every cost and observation, the sum of the log-probabilities of the
/// score-function sites upstream of it (recorded before it, not in another branch of an independent product),
/// element by element in shared plates (summed over a plate when a sample, cost or observation outside it lies
/// between, as <see cref="CostToGo"/> credits them) and summed over the sites' other plates, <b>with</b> their gradients
/// (DiCE's τ). One forward pass over the block tree, with an explicit stack.
/// </summary>
internal static class UpstreamLogProb
{
    /// <summary>
    /// Calls <paramref name="visit"/> with each cost or observation (and, with <paramref name="visitSamples"/>, each
    /// sample site) and the sum τ of the log-probabilities of the sites selected by <paramref name="include"/>
    /// upstream of it (null when there are none), in program order.
    /// </summary>
    public static void Walk(Trace trace, Func<SampleNode, bool> include, Action<TraceNode, Tensor?> visit, bool visitSamples = false)
    {
        var plates = trace.Plates;
        var stack = new Stack<Frame>();
        stack.Push(new Frame(trace.Root, PlateSums.Empty));
        while (stack.Count > 0)
        {
            var frame = stack.Peek();
            if (frame.Branches is { } branches)
            {
                if (frame.NextBranch < branches.Length)
                {
                    // every branch starts from what was upstream of the product; siblings never see each other
                    stack.Push(new Frame(branches[frame.NextBranch++], frame.Before.Plus(frame.Own)));
                    continue;
                }
                // what follows the product is downstream of every branch's mixing nodes; the branches' own sites are
                // not upstream of their siblings' mixing nodes
                frame.Before = frame.Before.Mix(frame.BranchMixed, plates);
                frame.Own = frame.Own.Mix(frame.BranchMixed, plates).Plus(frame.FromBranches);
                frame.Mixed |= frame.BranchMixed;
                (frame.Branches, frame.FromBranches, frame.BranchMixed) = (null, PlateSums.Empty, 0);
            }
            if (frame.Item == frame.Block.Items.Count)
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
            var item = frame.Block.Items[frame.Item++];
            if (item.Branches is { } children)
            {
                (frame.Branches, frame.NextBranch) = (children, 0);
                continue;
            }
            var node = trace.Nodes[item.Node];
            switch (node)
            {
                case SampleNode site:
                    if (visitSamples) visit(site, frame.Before.Plus(frame.Own).ReduceTo(site.PlateMask, plates));
                    if (include(site)) frame.Own = frame.Own.Add(site.PlateMask, site.Reduced!);
                    break;
                case CostNode or ObserveNode:
                    visit(node, frame.Before.Plus(frame.Own).ReduceTo(node.PlateMask, plates));
                    break;
                default:
                    continue;
            }
            // a node outside a plate may read all the plate's elements of the sites before it: the nodes after it
            // get those sites' log-probabilities summed over the plate (see CostToGo)
            if (!PlateMixing.Carries(node)) continue;
            (frame.Before, frame.Own, var mixed) = PlateSums.MixOutside(frame.Before, frame.Own, node.PlateMask, plates);
            frame.Mixed |= mixed;
        }
    }

    private sealed class Frame(TraceBlock block, PlateSums before)
    {
        public TraceBlock Block { get; } = block;

        /// <summary>The log-probabilities upstream of the block's first item.</summary>
        public PlateSums Before { get; set; } = before;

        /// <summary>Those the block added so far (products merged once all their branches are done).</summary>
        public PlateSums Own { get; set; } = PlateSums.Empty;

        public int Item { get; set; }

        public TraceBlock[]? Branches { get; set; }

        public int NextBranch { get; set; }

        /// <summary>What the branches of the product being walked added, merged into <see cref="Own"/> after the last.</summary>
        public PlateSums FromBranches { get; set; } = PlateSums.Empty;

        /// <summary>The plates the block's nodes mixed, for the block that holds it.</summary>
        public ulong Mixed { get; set; }

        /// <summary>The plates the product's branches walked so far mixed.</summary>
        public ulong BranchMixed { get; set; }
    }
}
