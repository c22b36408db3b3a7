using System.Collections.Generic;

namespace Scg.Tracing;

/// <summary>
/// The program-order structure of a run: a sequence of nodes and independent products, each product holding
/// one block per operand. Everything after a node in its block, and after the enclosing products, is
/// downstream of it.
/// </summary>
internal sealed class TraceBlock
{
    public List<BlockItem> Items { get; } = [];

    /// <summary>The branch this block is (the path its nodes record); null for the run's root block.</summary>
    public BranchPath? Path { get; init; }
}

/// <summary>A node (by index) or an independent product (its branches).</summary>
internal readonly record struct BlockItem(int Node, TraceBlock[]? Branches)
{
    public bool IsProduct => Branches is not null;
}
