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
