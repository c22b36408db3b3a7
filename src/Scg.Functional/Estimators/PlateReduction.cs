using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>Reductions of per-node tensors to the dimensions of plates.</summary>
internal static class PlateReduction
{
    /// <summary>
    /// Sums every dimension of <paramref name="t"/> (whose shape is <paramref name="shape"/>) that is not one of
    /// <paramref name="plates"/>: dimensions to the left of the plates' frame are removed, non-plate dimensions
    /// inside it are kept with size 1. <paramref name="resultShape"/> is the shape of the result. Enumeration
    /// dimensions (bit −d − 1 of <paramref name="enumDims"/> for dim d, out to rank <paramref name="enumRank"/>) are kept
    /// like plates.
    /// </summary>
    public static Tensor KeepPlates(Tensor t, long[] shape, ImmutableArray<PlateFrame> plates, out long[] resultShape, int enumRank = 0, ulong enumDims = 0)
    {
        var frameRank = enumRank;
        foreach (var p in plates) if (-p.Dim > frameRank) frameRank = -p.Dim;
        var result = t;
        resultShape = shape;
        if (shape.Length > frameRank)
        {
            var lead = new long[shape.Length - frameRank];
            for (var i = 0; i < lead.Length; i++) lead[i] = i;
            result = result.sum(lead);
            resultShape = shape[lead.Length..];
        }
        var rank = resultShape.Length;
        List<long>? inner = null;
        for (var d = -rank; d < 0; d++)
        {
            if (resultShape[rank + d] == 1) continue;
            var isPlate = d >= -64 && (enumDims & (1UL << (-d - 1))) != 0;
            foreach (var p in plates) if (p.Dim == d) { isPlate = true; break; }
            if (!isPlate) (inner ??= []).Add(d);
        }
        if (inner is null) return result;
        resultShape = (long[])resultShape.Clone();
        foreach (var d in inner) resultShape[rank + d] = 1;
        return result.sum([.. inner], keepdim: true);
    }

    /// <summary>
    /// Sums, keeping size-1 dimensions, the plate dimensions that are in <paramref name="from"/> but not in
    /// <paramref name="to"/>. The tensor's rightmost axes are the run's plate axes (<see cref="PlateRank"/>);
    /// any axes to their left (a stacking dimension) are kept.
    /// </summary>
    public static Tensor Marginalise(Tensor t, ulong from, ulong to, ImmutableArray<PlateFrame> plates)
    {
        var extra = from & ~to;
        if (extra == 0) return t;
        var dims = new List<long>();
        foreach (var p in plates)
            if ((extra & (1UL << p.Id)) != 0) dims.Add(p.Dim);
        return t.sum([.. dims], keepdim: true);
    }

    /// <summary>
    /// The sum over the nodes <paramref name="select"/> picks of their reduced tensors, each summed over every axis but
    /// the particle axis (kept, with size K; the other axes keep size 1), or null when it picks none: one total per
    /// particle, for objectives and signals that treat each particle as a run of its own.
    /// </summary>
    public static Tensor? PerParticle(Trace trace, Func<TraceNode, Tensor?> select, PlateFrame particles)
    {
        Tensor? total = null;
        foreach (var node in trace.Nodes)
        {
            if (select(node) is not { } t) continue;
            var rank = t.Dimensions;
            var axis = rank + particles.Dim;
            var dims = new List<long>();
            for (var d = 0L; d < rank; d++) if (d != axis) dims.Add(d);
            var part = dims.Count == 0 ? t : t.sum([.. dims], keepdim: true);
            total = total is null ? part : total + part;
        }
        if (total is null) return null;
        var shape = total.shape;
        shape[shape.Length + particles.Dim] = particles.Size;
        return total.expand(shape);
    }
}
