using System.Collections.Generic;
using System.Collections.Immutable;
using static TorchSharp.torch;

namespace Scg.Tracing;

/// <summary>
/// Brings every node's plate-reduced tensor to one rank, the run's plate rank (the deepest plate dimension
/// used), by adding size-1 dimensions on the left. A node records its tensor at the rank of the plates open
/// around it; once every node has the run's rank, tensors of nodes at different plate depths line up
/// dimension by dimension (a plate at dim d is axis d of every reduced tensor), so estimators can stack,
/// add and broadcast them without realigning.
/// </summary>
internal static class PlateRank
{
    /// <summary>The rank every reduced tensor of a run with these plates has: the largest −dim, 0 without plates.</summary>
    public static int Of(IEnumerable<PlateFrame> plates)
    {
        var rank = 0;
        foreach (var p in plates) if (-p.Dim > rank) rank = -p.Dim;
        return rank;
    }

    /// <summary>The nodes, with each reduced tensor of a lower rank viewed at <paramref name="rank"/>.</summary>
    public static ImmutableArray<TraceNode> Align(List<TraceNode> nodes, int rank)
    {
        var result = ImmutableArray.CreateBuilder<TraceNode>(nodes.Count);
        foreach (var node in nodes)
        {
            var shape = node.ReducedShape;
            if (node.Reduced is null || shape.Length == rank)
            {
                result.Add(node);
                continue;
            }
            var aligned = new long[rank];
            var pad = rank - shape.Length;
            for (var i = 0; i < rank; i++) aligned[i] = i < pad ? 1 : shape[i - pad];
            result.Add(node with { Reduced = node.Reduced.view(aligned), ReducedShape = aligned });
        }
        return result.MoveToImmutable();
    }
}
