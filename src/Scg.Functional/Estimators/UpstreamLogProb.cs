using System;
using System.Collections.Generic;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>
/// The mirror of <see cref="CostToGo"/>: for every cost and observation, the sum of the log-probabilities of the
/// score-function sites upstream of it (recorded before it, not in another branch of an independent product),
/// element by element in shared plates and summed over the sites' other plates, <b>with</b> their gradients
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
                frame.Own = frame.Own.Plus(frame.FromBranches);
                (frame.Branches, frame.FromBranches) = (null, PlateSums.Empty);
            }
            if (frame.Item == frame.Block.Items.Count)
            {
                stack.Pop();
                if (stack.Count > 0) stack.Peek().FromBranches = stack.Peek().FromBranches.Plus(frame.Own);
                continue;
            }
            var item = frame.Block.Items[frame.Item++];
            if (item.Branches is { } children)
            {
                (frame.Branches, frame.NextBranch) = (children, 0);
                continue;
            }
            switch (trace.Nodes[item.Node])
            {
                case SampleNode site:
                    if (visitSamples) visit(site, frame.Before.Plus(frame.Own).ReduceTo(site.PlateMask, plates));
                    if (include(site)) frame.Own = frame.Own.Add(site.PlateMask, site.Reduced!);
                    break;
                case CostNode or ObserveNode:
                    var node = trace.Nodes[item.Node];
                    visit(node, frame.Before.Plus(frame.Own).ReduceTo(node.PlateMask, plates));
                    break;
            }
        }
    }

    private sealed class Frame(TraceBlock block, PlateSums before)
    {
        public TraceBlock Block { get; } = block;

        /// <summary>The log-probabilities upstream of the block's first item.</summary>
        public PlateSums Before { get; } = before;

        /// <summary>Those the block added so far (products merged once all their branches are done).</summary>
        public PlateSums Own { get; set; } = PlateSums.Empty;

        public int Item { get; set; }

        public TraceBlock[]? Branches { get; set; }

        public int NextBranch { get; set; }

        /// <summary>What the branches of the product being walked added, merged into <see cref="Own"/> after the last.</summary>
        public PlateSums FromBranches { get; set; } = PlateSums.Empty;
    }
}
