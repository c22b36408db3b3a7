using System.Collections.Immutable;
using static TorchSharp.torch;

namespace Scg.Objectives;

/// <summary>The result of <see cref="Aesmc.Run{TState}"/>: the log of the SMC marginal-likelihood estimate and the filter's
/// diagnostics.</summary>
/// <typeparam name="TState">The particle state type.</typeparam>
/// <param name="LogMarginal">log Ẑ = Σ_t log Σ_k W_{t−1}^k w_t^k (detached): a lower bound on log p(x_{1:T}) in
/// expectation, while Ẑ itself is an unbiased estimate of p(x_{1:T}).</param>
/// <param name="Surrogate">−log Ẑ with its autograd graph: minimise it (see <see cref="Aesmc"/> for what its gradient
/// differentiates and the resampling term it leaves out).</param>
/// <param name="LogIncrementalWeights">The incremental log weights log w_t^k (detached), shape [T, K]: row t is
/// −(each particle's total cost in step t).</param>
/// <param name="EffectiveSampleSizes">Per step t, the effective sample size 1 / Σ_k (W_t^k)² of the normalised weights
/// after the step's reweighting, before any resampling (between 1 and K).</param>
/// <param name="Resampled">Per step t, whether the particles were resampled after it (never after the last).</param>
/// <param name="FinalState">The particles' states after the last step (not resampled).</param>
/// <param name="FinalLogWeights">The normalised log weights log W_T^k of <paramref name="FinalState"/> (detached), shape
/// [K]: the filtering distribution at the last step is Σ_k W_T^k δ(state_k).</param>
public sealed record AesmcObjective<TState>(
    Tensor LogMarginal,
    Tensor Surrogate,
    Tensor LogIncrementalWeights,
    ImmutableArray<double> EffectiveSampleSizes,
    ImmutableArray<bool> Resampled,
    TState FinalState,
    Tensor FinalLogWeights) : IObjective
{
    /// <summary>The number of steps after which the particles were resampled.</summary>
    public int ResamplingCount
    {
        get
        {
            var n = 0;
            foreach (var r in Resampled) if (r) n++;
            return n;
        }
    }

    /// <summary>The same as <see cref="Surrogate"/>: what a training step back-propagates.</summary>
    public Tensor Loss => Surrogate;

    /// <summary>−<see cref="LogMarginal"/>, the value the training minimises.</summary>
    public Tensor Value => -LogMarginal;
}
