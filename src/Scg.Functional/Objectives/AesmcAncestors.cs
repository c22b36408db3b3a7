using System;
using Scg.Distributions;
using static TorchSharp.torch;

namespace Scg.Objectives;

/// <summary>The ancestor indices of one resampling step, drawn from normalised log weights.</summary>
internal static class AesmcAncestors
{
    /// <summary>
    /// K indices (int64, shape [K]) drawn from the normalised weights exp(<paramref name="logWeights"/>) (shape [K]),
    /// with the run's generator. No gradient: the indices are not differentiated (see <see cref="Aesmc"/>).
    /// </summary>
    public static Tensor Draw(Tensor logWeights, AesmcResampling scheme, Generator? generator)
    {
        using var _ = no_grad();
        using var weights = logWeights.detach().exp();
        var k = weights.shape[0];
        switch (scheme)
        {
            case AesmcResampling.Multinomial:
            {
                using var rows = weights.unsqueeze(0);
                using var drawn = Noise.Multinomial(rows, k, generator);
                return drawn[0].clone();
            }
            case AesmcResampling.Systematic:
            {
                using var u = Noise.Uniform([1], weights.dtype, weights.device, generator);
                using var steps = arange(k, weights.dtype, weights.device);
                using var points = steps.add(u).div_(k);
                using var cumulative = weights.cumsum(0);
                using var found = searchsorted(cumulative, points, right: true);
                return found.clamp_max(k - 1);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(scheme), scheme, "Aesmc: unknown resampling scheme.");
        }
    }
}
