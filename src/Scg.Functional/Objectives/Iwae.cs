using System;
using System.Collections.Generic;
using System.Linq;
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
    /// <exception cref="ArgumentException">The run has no particles, VIMCO is asked for with K &lt; 2, the trace has
    /// closed-form KL terms (<c>Guided.Pair(…, analyticKl: true)</c>) and K &gt; 1 or DReG, or DReG on a trace whose pathwise
    /// guide sites' log q keep q's parameters (no <c>stickTheLanding</c>).</exception>
    /// <param name="dataPlate">The name of a plate over independent data points (a VAE's minibatch): the bound is then
    /// the sum over its elements b of log (1/K) Σ_k w_kb, one bound per data point, as an IWAE is usually reported, and
    /// every learning signal is per element. Without it the whole run is one importance weight per particle, whose
    /// bound on a batch of B points is far looser (one particle's weight dominates the product over B). Every sample
    /// site, cost and observation must then be inside the plate (a global latent couples the data points).</param>
    /// <exception cref="NotSupportedException">The trace has enumerated sites; or, with <paramref name="dataPlate"/>, the
    /// plate is subsampled (its costs are scaled by N/B, which a per-point log-mean-exp cannot undo).</exception>
    public static IwaeObjective Build(Trace trace, bool vimco = false, bool dreg = false, string? dataPlate = null)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var particles = trace.ParticlePlate
            ?? throw new ArgumentException("Iwae.Build: the run has no particles; run it with RunOptions.Particles = K (K ≥ 1).", nameof(trace));
        var k = particles.Size;
        if (vimco && k < 2)
            throw new ArgumentException($"Iwae.Build: VIMCO needs K ≥ 2 particles (the run had K = {k}).", nameof(trace));
        if (trace.HasEnumeration)
            throw new NotSupportedException("Iwae.Build: enumerated sites are not supported; sample them.");
        // a closed-form KL folds E_q[log q − log p] into one cost: −(KL + NLL) is no importance weight, and its
        // log-mean-exp over K > 1 particles is neither the IWAE bound nor has its gradient (K = 1 is the ELBO)
        if (k > 1) GuideTerms.RequireNoAnalyticKl(trace, "Iwae.Build");

        var data = dataPlate is null ? null : DataPlate(trace, dataPlate, particles);
        // log w: [K] for the whole run, or [K, B] with one column per element of the data plate
        var logWeights = -(data is null
            ? PlateReduction.PerParticle(trace, Surrogate.CostOf, particles)!.flatten()
            : PerElement(trace, Surrogate.CostOf, particles, data)!);
        var bounds = logWeights.logsumexp(0) - Math.Log(k);                    // [] or [B]
        var bound = data is null ? bounds : bounds.sum();
        Tensor surrogate = -bound;
        Func<TraceNode, Tensor?> score = n => n is SampleNode { IsScoreFunction: true } ? n.Reduced! : null;
        var scores = data is null
            ? PlateReduction.PerParticle(trace, score, particles)?.flatten()
            : PerElement(trace, score, particles, data);
        if (scores is not null)
        {
            Tensor signal;
            using (no_grad())
            {
                var detached = logWeights.detach();
                signal = vimco ? bounds.detach() - LeaveOneOut(detached) : bounds.detach().expand_as(detached);
            }
            surrogate = surrogate - scores.mul(signal).sum();
        }
        if (dreg) surrogate = Doubly(trace, logWeights, surrogate);
        surrogate = Surrogate.JoinedToLeaf(surrogate);   // nothing with a gradient: backward() a no-op, as for Surrogate.Build
        return new IwaeObjective(bound.detach(), surrogate, logWeights.detach());
    }

    /// <summary>
    /// DReG: moves the gradient through the pathwise sample values from weights w̄_k to w̄_k², adding
    /// Σ_j ⊥(∂D/∂z_j) · z_j (value 0) with D = −Σ_k ⊥(w̄_k² − w̄_k) log w_k.
    /// </summary>
    private static Tensor Doubly(Trace trace, Tensor logWeights, Tensor surrogate)
    {
        GuideTerms.RequireNoAnalyticKl(trace, "Iwae.Build(dreg)");   // K = 1 passes the check above
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

    /// <summary>L₋ₖ for every k (and every data point, for log weights of shape [K, B]): the bound with log w_k replaced
    /// by the mean of the other log weights.</summary>
    private static Tensor LeaveOneOut(Tensor logWeights)
    {
        var k = logWeights.shape[0];
        var others = (logWeights.sum(0, keepdim: true) - logWeights) / (k - 1);    // [K] or [K, B]
        var sizes = logWeights.shape.Prepend(k).ToArray();
        var matrix = logWeights.unsqueeze(0).expand(sizes).clone();                // row k: the K log weights
        var diagonal = matrix.diagonal(0, 0, 1);                                    // [K] or [B, K]
        diagonal.copy_(logWeights.dim() == 1 ? others : others.t());               // … with entry k replaced
        return matrix.logsumexp(1) - Math.Log(k);
    }

    /// <summary>The data plate named <paramref name="name"/>, checked: present, not the particles, not subsampled.</summary>
    private static PlateFrame DataPlate(Trace trace, string name, PlateFrame particles)
    {
        var plate = trace.Plates.FirstOrDefault(p => p.Name == name)
            ?? throw new ArgumentException(
                $"Iwae.Build: the run has no plate '{name}' (its plates: {string.Join(", ", trace.Plates.Where(p => !p.IsParticles).Select(p => $"'{p.Name}'"))}).",
                "dataPlate");
        if (plate.IsParticles)
            throw new ArgumentException("Iwae.Build: dataPlate names the particle plate; name the plate over the data points.", "dataPlate");
        if (plate.Scale != 1.0)
            throw new NotSupportedException(
                $"Iwae.Build: plate '{name}' is subsampled (its costs are scaled by {plate.Scale:G4}); a per-point bound needs unscaled " +
                "log weights. Use a plain Model.Plate over the minibatch and scale the bound yourself.");
        return plate;
    }

    /// <summary>
    /// The sum over the picked nodes of their tensors reduced to [K, B] (particles × elements of the data plate); a node
    /// outside the data plate is an error naming it. Null when the selector picks none.
    /// </summary>
    private static Tensor? PerElement(Trace trace, Func<TraceNode, Tensor?> select, PlateFrame particles, PlateFrame data)
    {
        Tensor? total = null;
        foreach (var node in trace.Nodes)
        {
            if (select(node) is not { } t) continue;
            if ((node.PlateMask & (1UL << data.Id)) == 0)
                throw new ArgumentException(
                    $"Iwae.Build: '{node.Name}' is outside plate '{data.Name}', so the data points are not independent given " +
                    "their own latents and a per-point bound does not exist. Leave dataPlate null for one bound over the whole run.",
                    "dataPlate");
            var rank = Math.Max(t.Dimensions, Math.Max(-particles.Dim, -data.Dim));
            while (t.Dimensions < rank) t = t.unsqueeze(0);
            var (p, d) = (rank + particles.Dim, rank + data.Dim);
            var others = Enumerable.Range(0, (int)rank).Where(a => a != p && a != d).Select(a => (long)a).ToArray();
            var part = others.Length == 0 ? t : t.sum(others);                  // the two axes left, in their order
            if (p > d) part = part.t();
            part = part.expand(particles.Size, data.Size);
            total = total is null ? part : total + part;
        }
        return total;
    }
}
