using System;
using System.Collections.Generic;
using System.Linq;
using Scg.Distributions;
using Scg.Estimators;
using static TorchSharp.torch;

namespace Scg.Interpretation;

/// <summary>Enumerated sites: where their dimensions go and which shapes may carry them.</summary>
internal sealed partial class RunContext
{
    /// <summary>The most values the enumerated sites of one run may have together (the product of their supports).</summary>
    public const long MaxEnumerated = 1L << 20;

    private readonly List<(string Name, int Dim, long Size)> enumerated = [];
    private long enumeratedTotal = 1;
    private ulong enumDims;

    /// <summary>The enumerated sites so far, for messages; null when there are none.</summary>
    public string? EnumerationSummary => enumerated.Count == 0 ? null
        : string.Join(", ", enumerated.Select(e => $"'{e.Name}' ({e.Size} values along dim {e.Dim})"));

    private int EnumRank => enumerated.Count == 0 ? 0 : -enumerated[^1].Dim;

    /// <summary>
    /// Lays out the support of an enumerated site along a new dimension to the left of everything before it; the
    /// value has shape [n, 1, …, 1] ++ event, and broadcasts against the plates.
    /// </summary>
    private (Tensor Value, int Dim) Enumerate(string name, Distribution dist, long[] batchShape)
    {
        if (EnumBase == 0) throw new EnumerationNeedsNestingException();
        for (var i = 1; i <= batchShape.Length; i++)
            if (i <= frameShape.Length ? batchShape[^i] != frameShape[^i] : batchShape[^i] != 1 && !IsEnumerated(-i, batchShape[^i]))
                throw new ArgumentException(
                    $"Sample site '{name}': its batch shape [{Shapes.Format(batchShape)}] has a dimension of size {batchShape[^i]} that no plate accounts " +
                    $"for ({(active.IsEmpty ? "no plates" : string.Join(", ", active))}); enumerating it would enumerate every joint value of its elements. " +
                    "Put the dimension in a plate (enumeration is then per element), or move it into the event (ToEvent) and sample the site.");
        var support = dist.EnumerateSupport()!;
        var n = support.shape[0];
        if (enumeratedTotal * n > MaxEnumerated)
            throw new ArgumentException(
                $"Sample site '{name}': enumerating its {n} values with the {enumerated.Count} site(s) enumerated before it " +
                $"({string.Join(", ", enumerated.Select(e => $"'{e.Name}'"))}) makes {enumeratedTotal * n} combinations, above the limit of " +
                $"{MaxEnumerated}; sample some of these sites instead (ScoreFunction or Auto).");
        var dim = EnumBase - enumerated.Count;
        if (dim < -64)
            throw new ArgumentException($"Sample site '{name}': no dimension is left to enumerate it in (at most 64 batch dimensions); sample it instead.");
        var eventShape = dist.EventShape;
        var shape = new long[-dim + eventShape.Length];
        Array.Fill(shape, 1L);
        shape[0] = n;
        eventShape.CopyTo(shape, -dim);
        enumerated.Add((name, dim, n));
        enumeratedTotal *= n;
        enumDims |= 1UL << (-dim - 1);
        return (support.reshape(shape), dim);
    }

    /// <summary>True when the first <paramref name="count"/> entries of <paramref name="shape"/> sit at enumeration
    /// dimensions with their sizes (or 1), and are 1 elsewhere.</summary>
    private bool EnumFits(long[] shape, int count)
    {
        for (var i = 0; i < count; i++)
            if (shape[i] != 1 && !IsEnumerated(i - shape.Length, shape[i])) return false;
        return true;
    }

    /// <summary>True when an enumerated site of <paramref name="size"/> values owns dimension <paramref name="dim"/>.</summary>
    private bool IsEnumerated(int dim, long size)
    {
        foreach (var e in enumerated) if (e.Dim == dim) return e.Size == size;
        return false;
    }
}
