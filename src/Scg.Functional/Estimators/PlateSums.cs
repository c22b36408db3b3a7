using System.Collections.Immutable;
using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>
/// Running sums of per-node tensors grouped by plate set (few groups in practice: one per distinct plate
/// nesting), immutable so that the branches of a product can share the sums recorded before it.
/// </summary>
internal readonly record struct PlateSums(ImmutableArray<(ulong Mask, Tensor Sum)> Entries)
{
    public static PlateSums Empty { get; } = new([]);

    public PlateSums Add(ulong mask, Tensor value)
    {
        for (var i = 0; i < Entries.Length; i++)
            if (Entries[i].Mask == mask)
                return new(Entries.SetItem(i, (mask, Entries[i].Sum + value)));
        return new(Entries.Add((mask, value)));
    }

    public PlateSums Plus(PlateSums other)
    {
        if (other.Entries.IsEmpty) return this;
        if (Entries.IsEmpty) return other;
        var result = this;
        foreach (var (mask, sum) in other.Entries) result = result.Add(mask, sum);
        return result;
    }

    /// <summary>
    /// The plate bits of the groups that are not all inside <paramref name="keep"/>: the plates a node of plate set
    /// <paramref name="keep"/> would mix (<see cref="Mix"/>). A bit test per group, no tensor operation.
    /// </summary>
    public ulong Outside(ulong keep)
    {
        var outside = 0UL;
        foreach (var (mask, _) in Entries) outside |= mask & ~keep;
        return outside;
    }

    /// <summary>
    /// The sums with the plates <paramref name="mixed"/> summed out of every group (size-1 axes kept), groups of equal
    /// remaining plates merged: after a node outside those plates that may read all their elements, each element
    /// is credited with (or credits) the sum over all of them. Unchanged when no group has such a plate.
    /// </summary>
    public PlateSums Mix(ulong mixed, ImmutableArray<Tracing.PlateFrame> plates)
    {
        if (mixed == 0) return this;
        var touched = false;
        foreach (var (mask, _) in Entries) touched |= (mask & mixed) != 0;
        if (!touched) return this;
        var result = Empty;
        foreach (var (mask, sum) in Entries)
            result = result.Add(mask & ~mixed, PlateReduction.Marginalise(sum, mask, mask & ~mixed, plates));
        return result;
    }

    /// <summary>
    /// The mixing step of both walks (<see cref="CostToGo"/>, <see cref="UpstreamLogProb"/>) at a node of plate set
    /// <paramref name="mask"/> that carries values forward: the plates that either sums holds and the node lacks are
    /// mixed out of both (<see cref="Mix"/>). Returns both sums and those plates (0 and the sums unchanged when none).
    /// </summary>
    public static (PlateSums First, PlateSums Second, ulong Mixed) MixOutside(
        PlateSums first, PlateSums second, ulong mask, ImmutableArray<Tracing.PlateFrame> plates)
    {
        var mixed = first.Outside(mask) | second.Outside(mask);
        return mixed == 0 ? (first, second, 0) : (first.Mix(mixed, plates), second.Mix(mixed, plates), mixed);
    }

    /// <summary>
    /// The sum of every group with the plates outside <paramref name="target"/> summed out (size-1 axes kept),
    /// so it broadcasts against a node of plate set <paramref name="target"/>; null when there are none.
    /// </summary>
    public Tensor? ReduceTo(ulong target, ImmutableArray<Tracing.PlateFrame> plates)
    {
        Tensor? total = null;
        foreach (var (mask, sum) in Entries)
        {
            var part = PlateReduction.Marginalise(sum, mask, target, plates);
            total = total is null ? part : total + part;
        }
        return total;
    }
}
