using System.Collections.Immutable;
using static TorchSharp.torch;

namespace Scg.Tracing;

/// <summary>
/// One recorded event of a run: a sample, an observation, a cost or a parameter read. Nodes are immutable;
/// <see cref="Index"/> is the position in program order, and <see cref="Plates"/> the plates it ran inside.
/// </summary>
public abstract record TraceNode
{
    /// <summary>The node's name, unique among the sample, observe and cost nodes of one run.</summary>
    public required string Name { get; init; }

    /// <summary>The position of the node in program order within its trace.</summary>
    public required int Index { get; init; }

    /// <summary>The plates enclosing the node, outermost first.</summary>
    public required ImmutableArray<PlateFrame> Plates { get; init; }

    /// <summary>The set of enclosing plates as a bit mask of <see cref="PlateFrame.Id"/>.</summary>
    internal ulong PlateMask { get; init; }

    /// <summary>
    /// The independence scope: which branch of which independent product the node was recorded in. Two nodes
    /// in different branches of the same product are not connected by an edge.
    /// </summary>
    internal BranchPath? Branch { get; init; }

    /// <summary>
    /// What the node contributes to estimators, reduced to its plates (non-plate dimensions summed): the
    /// log-probability of a sample or observation, the value of a cost; null for parameters. In a frozen trace
    /// every reduced tensor has the run's plate rank (<see cref="PlateRank"/>): plate dim d is axis d, other
    /// axes have size 1. Cached with its shape so that estimators make no further queries of the native tensor.
    /// </summary>
    internal Tensor? Reduced { get; init; }

    /// <summary>The shape of <see cref="Reduced"/>.</summary>
    internal long[] ReducedShape { get; init; } = [];

    /// <summary>A one-line description for printed traces.</summary>
    public abstract string Describe();

    /// <summary>Formats a tensor's shape for messages and printed traces.</summary>
    /// <param name="t">The tensor.</param>
    protected static string ShapeOf(Tensor t) => "[" + string.Join(",", t.shape) + "]";
}
