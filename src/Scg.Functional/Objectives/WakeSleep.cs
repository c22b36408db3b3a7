using System;
using System.Collections.Generic;
using System.Linq;
using Scg.Estimators;
using Scg.Interpretation;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Objectives;

/// <summary>
/// Reweighted wake-sleep (Bornschein and Bengio 2015; Le et al. 2019) for a guided run with K vectorised particles
/// (<see cref="Guided.Pair"/>, <c>RunOptions.Particles</c> = K). With log w_k = log p(x, z_k) − log q(z_k | x) and the
/// self-normalised weights w̄_k = w_k / Σ_j w_j (detached):
/// <list type="bullet">
/// <item>wake-θ ascends Σ_k w̄_k ∇θ log p(x, z_k), the gradient of the importance-weighted bound for the model;</item>
/// <item>wake-φ ascends Σ_k w̄_k ∇φ log q(z_k | x) at fixed z_k: a (biased, consistent) step on KL(p(z | x) ‖ q), which
/// needs no REINFORCE term, so discrete guide sites train as easily as continuous ones;</item>
/// <item>sleep-φ ascends log q(z | x) at draws (z, x) ~ p of the model, recorded by <see cref="Sleep{TModel, TGuide}"/>.</item>
/// </list>
/// The guide's log q terms are told from the model's by the tags <see cref="Guided.Pair"/> puts on its <c>z@q</c> costs.
/// Gradients "at fixed z" are taken by removing what passes through the values of pathwise guide sites (a score-function
/// site's value has no gradient), so a guide may use either estimator; a hierarchical guide whose pathwise site depends
/// on another pathwise site's value is not supported there (not detected).
/// </summary>
public static class WakeSleep
{
    /// <summary>Builds the phases asked for from a wake run (and, for sleep-φ, a sleep run).</summary>
    /// <param name="wake">A run of <see cref="Guided.Pair"/> with K ≥ 1 particles, without <c>analyticKl</c>.</param>
    /// <param name="phases">The phases to train (<see cref="WakeSleepPhases.Wake"/> is the usual choice).</param>
    /// <param name="sleep">For <see cref="WakeSleepPhases.SleepPhi"/>: the guide replayed at a dream, from
    /// <see cref="Sleep{TModel, TGuide}"/>; null otherwise.</param>
    /// <param name="dreg">Wake-φ with doubly reparameterised gradients (Tucker et al. 2019) for the pathwise guide sites:
    /// Σ_k (w̄_k − w̄_k²) ∂log w_k/∂z_k · ∂z_k/∂φ replaces their Σ_k w̄_k ∇φ log q(z_k) (same expectation, less variance).
    /// Needs <c>Guided.Pair(…, stickTheLanding: true)</c>; without it, that pair's trace is refused for wake-φ, since its
    /// log q has no gradient for q's parameters.</param>
    /// <exception cref="ArgumentException">No phase; no particles; a trace that is not a guided run or has closed-form KL
    /// terms; sleep-φ without a sleep trace (or a sleep trace without sleep-φ, or one whose sites were drawn, not
    /// replayed); <c>stickTheLanding</c> without <paramref name="dreg"/> for wake-φ, or the reverse.</exception>
    /// <exception cref="NotSupportedException">The wake trace has enumerated sites.</exception>
    public static WakeSleepObjective Build(Trace wake, WakeSleepPhases phases, Trace? sleep = null, bool dreg = false)
    {
        ArgumentNullException.ThrowIfNull(wake);
        if ((phases & WakeSleepPhases.All) == 0 || (phases & ~WakeSleepPhases.All) != 0)
            throw new ArgumentOutOfRangeException(nameof(phases), $"WakeSleep.Build: phases must combine WakeTheta, WakePhi and SleepPhi (got {phases}).");
        var particles = wake.ParticlePlate
            ?? throw new ArgumentException("WakeSleep.Build: the wake run has no particles; run Guided.Pair with RunOptions.Particles = K (K ≥ 1).", nameof(wake));
        if (wake.HasEnumeration)
            throw new NotSupportedException("WakeSleep.Build: enumerated sites are not supported; sample them.");
        GuideTerms.RequireNoAnalyticKl(wake, "WakeSleep.Build");
        if (!wake.Costs.Any(c => c.GuideTerm is GuideTerm.LogQ or GuideTerm.LogQDetachedParameters))
            throw new ArgumentException("WakeSleep.Build: the wake trace has no guide sites; it must be a run of Guided.Pair(guide, model).", nameof(wake));
        var sleepAsked = phases.HasFlag(WakeSleepPhases.SleepPhi);
        if (sleepAsked && sleep is null)
            throw new ArgumentException("WakeSleep.Build: SleepPhi needs a sleep trace; record one with WakeSleep.Sleep(model, guide, options).", nameof(sleep));
        if (!sleepAsked && sleep is not null)
            throw new ArgumentException("WakeSleep.Build: a sleep trace was given but SleepPhi was not asked for; add it to the phases or drop the trace.", nameof(sleep));
        if (phases.HasFlag(WakeSleepPhases.WakePhi))
        {
            if (dreg) GuideTerms.RequireDetachedParameters(wake, "WakeSleep.Build(dreg)");
            else GuideTerms.RequireAttachedParameters(wake, "WakeSleep.Build");
        }

        var logWeights = -PlateReduction.PerParticle(wake, Surrogate.CostOf, particles)!.flatten();
        var bound = (logWeights.logsumexp(0) - Math.Log(particles.Size)).detach();
        Tensor normalised;
        using (no_grad()) normalised = logWeights.detach().softmax(0);
        var logQ = GuideTerms.LogQ(wake, particles, _ => true, logWeights);
        var theta = zeros([], logWeights.dtype, logWeights.device);
        var phi = theta;
        if (phases.HasFlag(WakeSleepPhases.WakeTheta))
            theta = LatentPaths.Strip(-(normalised * (logWeights + logQ)).sum(), wake);
        if (phases.HasFlag(WakeSleepPhases.WakePhi))
            phi = dreg ? DoublyWakePhi(wake, particles, normalised, logWeights) : LatentPaths.Strip(-(normalised * logQ).sum(), wake);
        if (sleepAsked) phi = phi + SleepLoss(sleep!);
        return new WakeSleepObjective(bound, theta, phi, logWeights.detach());
    }

    /// <summary>
    /// Sleep-φ's run: dreams (z, x) ~ p with <see cref="Interpreter.Dream{T}"/> (K independent dreams with
    /// <c>RunOptions.Particles</c> = K), then replays <paramref name="guide"/>, given the dreamed observations, at the
    /// dreamed latents. Pass the trace to <see cref="Build"/> with <see cref="WakeSleepPhases.SleepPhi"/>.
    /// </summary>
    /// <remarks>A guide usually reads its data from a closure; sleep-φ needs it as a function of the observations
    /// instead, since they are drawn anew. The dream has no gradient, so sleep-φ trains only the guide.</remarks>
    /// <typeparam name="TModel">The model's value type.</typeparam>
    /// <typeparam name="TGuide">The guide's value type.</typeparam>
    /// <param name="model">p(x, z), as given to <see cref="Guided.Pair"/>: its observations are drawn.</param>
    /// <param name="guide">q(z | x) for the dreamed observations, given by observation site name; it must sample every
    /// latent of the model, under the model's names.</param>
    /// <param name="options">Seed or generator, parameter store, particles (the same for the dream and the replay).</param>
    /// <exception cref="ArgumentException">The guide lacks a latent of the model or samples a site the model does not.</exception>
    public static Trace Sleep<TModel, TGuide>(Model<TModel> model, Func<IReadOnlyDictionary<string, Tensor>, Model<TGuide>> guide, RunOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(guide);
        options ??= RunOptions.Default;
        var dream = Interpreter.Dream(model, options).Trace;
        var observed = dream.Observations.ToDictionary(o => o.Name, o => o.Value, StringComparer.Ordinal);
        var q = guide(observed) ?? throw new ArgumentException("WakeSleep.Sleep: the guide function returned null.", nameof(guide));
        return Interpreter.Replay(q, dream, options).Trace;
    }

    /// <summary>
    /// Wake-φ with DReG: score-function guide sites keep −Σ_k w̄_k log q(z_k) at fixed z; the pathwise ones get
    /// Σ_j ⊥(∂D/∂z_j) · z_j (value 0), D = −Σ_k ⊥(w̄_k − w̄_k²) log w_k with log q differentiated only through z.
    /// </summary>
    private static Tensor DoublyWakePhi(Trace wake, PlateFrame particles, Tensor normalised, Tensor logWeights)
    {
        var scoreLogQ = GuideTerms.LogQ(wake, particles, c => !GuideTerms.IsPathwise(wake, c), logWeights);
        var phi = LatentPaths.Strip(-(normalised * scoreLogQ).sum(), wake);
        Tensor shift;
        using (no_grad()) shift = normalised - normalised.square();
        return LatentPaths.Through(-(shift * logWeights).sum(), wake) is { } through ? phi + (through - through.detach()) : phi;
    }

    /// <summary>−(1/K) Σ log q(z | x) of the guide replayed at the dreams.</summary>
    private static Tensor SleepLoss(Trace sleep)
    {
        var sites = sleep.Samples.ToList();
        if (sites.Count == 0)
            throw new ArgumentException("WakeSleep.Build: the sleep trace has no sample sites; record it with WakeSleep.Sleep(model, guide, options).", nameof(sleep));
        if (sites.FirstOrDefault(s => !s.IsReplayed) is { } drawn)
            throw new ArgumentException(
                $"WakeSleep.Build: site '{drawn.Name}' of the sleep trace was drawn, not replayed at a dream; record the trace with WakeSleep.Sleep(model, guide, options).", nameof(sleep));
        var total = stack(sites.Select(s => s.Reduced!.sum())).sum();
        return -total / sleep.ParticleCount;
    }
}
