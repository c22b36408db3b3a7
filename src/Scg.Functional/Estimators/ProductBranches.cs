using System.Collections.Generic;
using Scg.Tracing;

namespace Scg.Estimators;

/// <summary>
/// Numbers every branch of every independent product of a trace 0, 1, … so that the branches of one product
/// are consecutive (products are numbered in the order they started, as the interpreter numbers them), and
/// lists, for a node, the branches it lies in from the innermost out.
/// </summary>
internal sealed class ProductBranches
{
    private readonly List<int> firstBranch = [];
    private readonly List<int> lastBranch = [];

    public ProductBranches(Trace trace) => Number(trace.Root);

    /// <summary>The total number of branches.</summary>
    public int Count { get; private set; }

    /// <summary>The number of the last branch of the product that branch <paramref name="branch"/> belongs to.</summary>
    public int LastSibling(int branch) => lastBranch[branch];

    /// <summary>Adds the branch numbers of <paramref name="path"/> (innermost first) to <paramref name="into"/>.</summary>
    public void BranchesOf(BranchPath? path, List<int> into)
    {
        for (var p = path; p is not null; p = p.Parent)
            into.Add(firstBranch[p.Product] + p.BranchIndex);
    }

    private void Number(TraceBlock block)
    {
        foreach (var item in block.Items)
        {
            if (item.Branches is not { } branches) continue;
            firstBranch.Add(Count);
            var last = Count + branches.Length - 1;
            for (var i = 0; i < branches.Length; i++) lastBranch.Add(last);
            Count += branches.Length;
            // products nested in the branches started later, so they get later numbers
            foreach (var b in branches) Number(b);
        }
    }
}
