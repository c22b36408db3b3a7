using System;
using System.Collections.Generic;
using Scg.Estimators;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Objectives;

/// <summary>
/// The importance-weighted bound (IWAE, Burda et al. 2016) of a guided run with K vectorised particles
/// (<see cref="Guided.Pair"/>, <c>RunOptions.Particles</c> = K): with particle k's log weight
/// log w_k = −(particle k's total cost) = log p(x, z_k) − log q(z_k), the bound is L = log (1/K) Σ_k w_k, computed in
/// log space. It is not a sum of costs, so a score-function site's learning signal is the bound itself (its part
/// of the objective), not a cost-to-go: plainly L, or with VIMCO (Mnih and Rezende 2016) L − L₋ₖ, where L₋ₖ
/// replaces log w_k by the mean of the other K − 1 log weights. Pathwise sites differentiate L directly.
/// </summary>
public static class Iwae
{
    /// <summary>Builds the bound and a surrogate whose gradient is an unbiased estimate of ∇(−L).</summary>
    /// <remarks>
    /// <para>On a trace of <c>Guided.Pair(…, stickTheLanding: true)</c> without <paramref name="dreg"/>, pathwise guide
    /// sites get "sticking the landing" for IWAE: Σ_k w̄_k ∇ log w_k with log q differentiated only through z. For
    /// K &gt; 1 that gradient is <b>biased</b> (the dropped score terms are weighted by w̄_k, which depends on z_k; Tucker
    /// et al. 2019); DReG is the unbiased form.</para>
    /// <para>With <paramref name="dreg"/> (doubly reparameterised gradients, Tucker et al. 2019), the gradient through
    /// the pathwise guide sites' values is Σ_k w̄_k² ∂log w_k/∂z_k · ∂z_k/∂φ (log q differentiated only through z): the
    /// squared self-normalised weights replace w̄_k and the score terms. The model's parameters keep Σ_k w̄_k ∇θ log p(x, z_k),
    /// and score-function sites their learning signal, so one surrogate serves both: the surrogate is the plain one plus
    /// Σ_j ⊥(∂D/∂z_j) · z_j, D = −Σ_k ⊥(w̄_k² − w̄_k) log w_k, whose gradient reaches only what z_j depends on (one extra
    /// backward pass, with the graph kept). Unbiased when no pathwise guide site's distribution depends on another pathwise
    /// site's value (mean-field or amortised guides; a hierarchical guide is not detected), and when the guide and the
    /// model share no parameters.</para>
    /// </remarks>
    /// <param name="trace">A run with K ≥ 1 particles (K ≥ 2 for VIMCO), normally of <see cref="Guided.Pair"/>.</param>
    /// <param name="vimco">Use VIMCO's leave-one-out learning signal for score-function sites.</param>
    /// <param name="dreg">Use DReG for the pathwise guide sites; needs a trace of <c>Guided.Pair(…, stickTheLanding: true)</c>
    /// without <c>analyticKl</c>.</param>
    /// <exception cref="ArgumentException">The run has no particles, VIMCO is asked for with K &lt; 2, or DReG on a trace
    /// whose pathwise guide sites' log q keep q's parameters (no <c>stickTheLanding</c>) or that has closed-form KL terms.</exception>
    /// <exception cref="NotSupportedException">The trace has enumerated sites.</exception>
    public static IwaeObjective Build(Trace trace, bool vimco = false, bool dreg = false)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var particles = trace.ParticlePlate
            ?? throw new ArgumentException("Iwae.Build: the run has no particles; run it with RunOptions.Particles = K (K ≥ 1).", nameof(trace));
        var k = particles.Size;
        if (vimco && k < 2)
            throw new ArgumentException($"Iwae.Build: VIMCO needs K ≥ 2 particles (the run had K = {k}).", nameof(trace));
        if (trace.HasEnumeration)
            throw new NotSupportedException("Iwae.Build: enumerated sites are not supported; sample them.");

        var logWeights = -PlateReduction.PerParticle(trace, Surrogate.CostOf, particles)!.flatten();
        var bound = logWeights.logsumexp(0) - Math.Log(k);
        Tensor surrogate = -bound;
        var scores = PlateReduction.PerParticle(trace, n => n is SampleNode { IsScoreFunction: true } ? n.Reduced! : null, particles)?.flatten();
        if (scores is not null)
        {
            Tensor signal;
            using (no_grad())
            {
                var detached = logWeights.detach();
                signal = vimco ? bound.detach() - LeaveOneOut(detached) : bound.detach().expand(k);
            }
            surrogate = surrogate - scores.mul(signal).sum();
        }
        if (dreg) surrogate = Doubly(trace, logWeights, surrogate);
        return new IwaeObjective(bound.detach(), surrogate, logWeights.detach());
    }

    /// <summary>
    /// DReG: moves the gradient through the pathwise sample values from weights w̄_k to w̄_k², adding
    /// Σ_j ⊥(∂D/∂z_j) · z_j (value 0) with D = −Σ_k ⊥(w̄_k² − w̄_k) log w_k.
    /// </summary>
    private static Tensor Doubly(Trace trace, Tensor logWeights, Tensor surrogate)
    {
        GuideTerms.RequireNoAnalyticKl(trace, "Iwae.Build(dreg)");
        GuideTerms.RequireDetachedParameters(trace, "Iwae.Build(dreg)");
        Tensor shift;
        using (no_grad())
        {
            var normalised = logWeights.detach().softmax(0);
            shift = normalised.square() - normalised;
        }
        if (LatentPaths.Through(-(shift * logWeights).sum(), trace) is not { } through) return surrogate;
        return surrogate + (through - through.detach());
    }

    /// <summary>L₋ₖ for every k: the bound with log w_k replaced by the mean of the other log weights.</summary>
    private static Tensor LeaveOneOut(Tensor logWeights)
    {
        var k = logWeights.shape[0];
        var others = (logWeights.sum() - logWeights) / (k - 1);                 // [K]
        var matrix = logWeights.unsqueeze(0).expand(k, k).clone();             // row k: the K log weights
        matrix.diagonal().copy_(others);                                       // … with entry k replaced
        return matrix.logsumexp(1) - Math.Log(k);
    }
}
