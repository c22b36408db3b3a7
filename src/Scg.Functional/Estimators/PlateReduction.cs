using System.Collections.Generic;
using System.Collections.Immutable;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>Reductions of per-node tensors to the dimensions of plates.</summary>
internal static class PlateReduction
{
    /// <summary>
    /// Sums every dimension of <paramref name="t"/> that is not one of <paramref name="plates"/>: dimensions to
    /// the left of the plates' frame are removed, non-plate dimensions inside it are kept with size 1.
    /// </summary>
    public static Tensor KeepPlates(Tensor t, ImmutableArray<PlateFrame> plates)
    {
        var rank = (int)t.dim();
        var frameRank = 0;
        foreach (var p in plates) if (-p.Dim > frameRank) frameRank = -p.Dim;
        var result = t;
        if (rank > frameRank)
        {
            var lead = new long[rank - frameRank];
            for (var i = 0; i < lead.Length; i++) lead[i] = i;
            result = result.sum(lead);
            rank = frameRank;
        }
        List<long>? inner = null;
        for (var d = -rank; d < 0; d++)
        {
            if (result.shape[rank + d] == 1) continue;
            var isPlate = false;
            foreach (var p in plates) if (p.Dim == d) { isPlate = true; break; }
            if (!isPlate) (inner ??= []).Add(d);
        }
        return inner is null ? result : result.sum([.. inner], keepdim: true);
    }

    /// <summary>Sums, keeping size-1 dimensions, the plate dimensions that are in <paramref name="from"/> but not in <paramref name="to"/>.</summary>
    public static Tensor Marginalise(Tensor t, ulong from, ulong to, ImmutableArray<PlateFrame> plates)
    {
        var extra = from & ~to;
        if (extra == 0) return t;
        var dims = new List<long>();
        var rank = t.dim();
        foreach (var p in plates)
            if ((extra & (1UL << p.Id)) != 0 && -p.Dim <= rank) dims.Add(p.Dim);
        return dims.Count == 0 ? t : t.sum([.. dims], keepdim: true);
    }
}
