namespace Scg.Tracing;

/// <summary>
/// Where a node sits among nested independent products: a linked list from the innermost branch outwards.
/// Shared between nodes, so recording a node costs one reference.
/// </summary>
/// <param name="Product">The product's number within the run.</param>
/// <param name="BranchIndex">Which operand of the product.</param>
/// <param name="Parent">The enclosing branch, or null at top level.</param>
internal sealed record BranchPath(int Product, int BranchIndex, BranchPath? Parent)
{
    /// <summary>
    /// True when the two paths pass through different branches of one product: such nodes are independent.
    /// </summary>
    public static bool Separated(BranchPath? a, BranchPath? b)
    {
        for (var x = a; x is not null; x = x.Parent)
            for (var y = b; y is not null; y = y.Parent)
                if (x.Product == y.Product && x.BranchIndex != y.BranchIndex)
                    return true;
        return false;
    }
}
