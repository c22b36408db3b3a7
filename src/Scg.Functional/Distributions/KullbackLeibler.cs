using System;
using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>Closed-form Kullback–Leibler divergences between distributions, where one exists.</summary>
public static class KullbackLeibler
{
    /// <summary>
    /// KL(q ‖ p), shaped like the broadcast of their batch shapes (summed over event dimensions), or null when no
    /// closed form is known for the pair. Known: Normal–Normal, and Independent Normals with the same event rank.
    /// </summary>
    /// <param name="q">The first distribution.</param>
    /// <param name="p">The second distribution.</param>
    public static Tensor? Between(Distribution q, Distribution p)
    {
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(p);
        switch (q, p)
        {
            case (Normal a, Normal b):
                return NormalNormal(a, b);
            case (Independent a, Independent b) when a.ReinterpretedDims == b.ReinterpretedDims && Between(a.Base, b.Base) is { } inner:
                var dims = new long[a.ReinterpretedDims];
                for (var i = 0; i < dims.Length; i++) dims[i] = -1 - i;
                return inner.sum(dims);
            default:
                return null;
        }
    }

    /// <summary>log(σp/σq) + (σq² + (μq − μp)²) / (2σp²) − ½.</summary>
    private static Tensor NormalNormal(Normal q, Normal p)
    {
        var ratio = q.Scale / p.Scale;
        var shift = (q.Loc - p.Loc) / p.Scale;
        return (ratio.square() + shift.square() - 1.0) * 0.5 - ratio.log();
    }
}
