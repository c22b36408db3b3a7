using System;
using System.Collections.Immutable;
using Scg.Estimators;
using Scg.Interpretation;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Objectives;

/// <summary>
/// Auto-encoding sequential Monte Carlo (AESMC; Le, Igl, Rainforth, Jin, Wood 2018): a particle filter over T steps
/// with K particles whose objective is the log of its marginal-likelihood estimate,
/// log Ẑ = Σ_t log Σ_k W_{t−1}^k w_t^k, where w_t^k is particle k's incremental weight at step t and W_{t−1} the
/// normalised weights carried from the step before (uniform, 1/K, at the start and after resampling). Ẑ is an
/// unbiased estimate of p(x_{1:T}); log Ẑ is a lower bound on log p(x_{1:T}) in expectation, and with T = 1, or with
/// no resampling, it is the IWAE bound (<see cref="Iwae"/>).
/// </summary>
/// <remarks>
/// <para><b>The model.</b> Each step is a model run once with <see cref="RunOptions.Particles"/> = K, normally a
/// <see cref="Guided.Pair"/> of a proposal q(z_t | z_{t−1}, x) and the step's generative part
/// p(z_t | z_{t−1}) p(x_t | z_t), mapped to the new particle states. A step's incremental log weight for particle k is
/// −(particle k's total cost in that step's trace), as <see cref="Iwae.Build"/> computes it: log p(z_t | z_{t−1}) +
/// log p(x_t | z_t) − log q(z_t | ·). A step without a guide (sample z_t from the transition, observe x_t) is the
/// bootstrap filter: its weight is the observation's likelihood. Step 0 is the initial model; step t = 1 … T − 1
/// is <c>step(t, states)</c>, where the states are the previous step's values, re-indexed by the ancestors when the
/// filter resampled. Site names may repeat from step to step: each step is a trace of its own.</para>
/// <para><b>Resampling.</b> After step t (not the last), when ESS_t = 1 / Σ_k (W_t^k)² &lt; threshold · K (always
/// when the threshold is 1, never when it is 0), K ancestor indices are drawn from W_t with the run's generator
/// (<see cref="AesmcResampling"/>), the states are re-indexed by them and the weights reset to 1/K.</para>
/// <para><b>Gradients, and the term left out.</b> The surrogate is −log Ẑ with its autograd graph: its gradient
/// differentiates log Ẑ through the reparameterised draws of every step (pathwise) and through the weights,
/// carried normalised weights included, <i>at fixed ancestor indices</i>. The ancestors are discrete draws whose
/// distribution depends on the parameters; the exact gradient of E[log Ẑ] has a score-function term
/// Σ log P(ancestors) · log Ẑ for them, which AESMC (as in the paper) drops because its variance is large. So the
/// gradient is <b>biased</b> whenever the filter resamples (unbiased for E[log Ẑ] with threshold 0, where no
/// ancestor is drawn). The estimate Ẑ itself is unbiased regardless. Only pathwise sites are supported: a
/// score-function or enumerated site in a step is refused (its learning signal would need the dropped terms too).</para>
/// </remarks>
public static class Aesmc
{
    /// <summary>
    /// Runs the filter on tensor particle states whose first dimension is the K particles (as values drawn in a
    /// step are, with <see cref="RunOptions.MaxPlateNesting"/> plates to their right); resampling re-indexes that
    /// dimension with <c>index_select</c>.
    /// </summary>
    /// <param name="initial">Step 0: draws the first particle states (usually a guided pair mapped to the guide's value).</param>
    /// <param name="step">Step t = 1 … T − 1 from the previous states ([K, …]): draws the new states.</param>
    /// <param name="steps">T ≥ 1, the number of steps, the initial one included.</param>
    /// <param name="options">Particles, resampling threshold and scheme, run options.</param>
    /// <exception cref="ArgumentException">A step returned a state without the K particles first; see also
    /// <see cref="Run{TState}"/>.</exception>
    public static AesmcObjective<Tensor> Run(Model<Tensor> initial, Func<int, Tensor, Model<Tensor>> step, int steps, AesmcOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var k = options.Particles;
        return Filter(initial, step, (_, s, a) => s.index_select(0, a), (t, s) => CheckParticleShape(t, s, k), steps, options);
    }

    /// <summary>Runs the filter on particle states of any type, re-indexed by <paramref name="reindex"/>.</summary>
    /// <typeparam name="TState">The particle states (a tensor, a tuple of tensors, a record).</typeparam>
    /// <param name="initial">Step 0: draws the first particle states.</param>
    /// <param name="step">Step t = 1 … T − 1 from the previous states: draws the new states.</param>
    /// <param name="reindex">Given the states and K ancestor indices (int64, shape [K]), the states of the resampled
    /// particles: particle k takes the state of particle ancestors[k] (<c>index_select</c> along each tensor's
    /// particle dimension).</param>
    /// <param name="steps">T ≥ 1, the number of steps, the initial one included.</param>
    /// <param name="options">Particles, resampling threshold and scheme, run options.</param>
    /// <exception cref="ArgumentOutOfRangeException">T &lt; 1, K &lt; 1, or a threshold outside [0, 1].</exception>
    /// <exception cref="ArgumentException">Under validation (<see cref="RunOptions.ValidateArguments"/>): a step's log
    /// weights are NaN or +∞, or every particle's weight is zero; the message names the step. Always: a step's trace
    /// carries closed-form KL terms (<c>Guided.Pair(…, analyticKl: true)</c>), which are no importance weights.</exception>
    /// <exception cref="NotSupportedException">A step has a score-function or enumerated site.</exception>
    public static AesmcObjective<TState> Run<TState>(Model<TState> initial, Func<int, TState, Model<TState>> step, Func<TState, Tensor, TState> reindex, int steps, AesmcOptions options)
    {
        ArgumentNullException.ThrowIfNull(reindex);
        return Filter(initial, step, (_, s, a) => reindex(s, a), null, steps, options);
    }

    private static AesmcObjective<TState> Filter<TState>(Model<TState> initial, Func<int, TState, Model<TState>> step,
        Func<int, TState, Tensor, TState> reindex, Action<int, TState>? check, int steps, AesmcOptions options)
    {
        ArgumentNullException.ThrowIfNull(initial);
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(options);
        if (steps < 1)
            throw new ArgumentOutOfRangeException(nameof(steps), $"Aesmc.Run: steps must be at least 1 (got {steps}); T = 1 runs the initial model alone.");
        options.Check();
        var k = options.Particles;
        var run = options.Run ?? RunOptions.Default;
        var owned = run.Generator is null && run.Seed is { } seed ? new Generator(seed, CPU) : null;
        try
        {
            var stepOptions = run with { Generator = run.Generator ?? owned, Seed = null, Particles = k };
            var generator = stepOptions.Generator;
            var logK = Math.Log(k);
            Tensor? logW = null;                                        // normalised log weights; null: uniform
            Tensor? logZ = null;
            var increments = new Tensor[steps];
            var ess = ImmutableArray.CreateBuilder<double>(steps);
            var resampled = ImmutableArray.CreateBuilder<bool>(steps);
            var state = default(TState)!;
            for (var t = 0; t < steps; t++)
            {
                var model = t == 0 ? initial : step(t, state)
                    ?? throw new ArgumentException($"Aesmc.Run: step({t}, …) returned null; return the step's model.", nameof(step));
                var result = Interpreter.Sample(model, stepOptions);
                stepOptions = stepOptions.MaxPlateNesting is null ? stepOptions with { MaxPlateNesting = result.Trace.PlateNesting } : stepOptions;
                state = result.Value;
                check?.Invoke(t, state);
                var logw = IncrementalLogWeights(result.Trace, t, k);
                increments[t] = logw.detach();
                var joint = logW is null ? logw - logK : logW + logw;
                var stepLogZ = joint.logsumexp(0);
                logZ = logZ is null ? stepLogZ : logZ + stepLogZ;
                logW = joint - stepLogZ;
                var e = logW.detach().mul(2.0).logsumexp(0).neg().exp().item<double>();
                if (!double.IsFinite(e) && stepOptions.ValidateArguments) throw WeightError(t, logw);
                ess.Add(e);
                var resample = t < steps - 1 && (options.EssThreshold >= 1.0 || e < options.EssThreshold * k);
                resampled.Add(resample);
                if (!resample) continue;
                var ancestors = AesmcAncestors.Draw(logW, options.Resampling, generator);
                state = reindex(t, state, ancestors);
                logW = null;
            }
            var finalLogW = logW is null ? full(k, -logK, logZ!.dtype, logZ.device) : logW.detach();
            return new AesmcObjective<TState>(logZ!.detach(), logZ.neg(), stack(increments), ess.MoveToImmutable(),
                resampled.MoveToImmutable(), state, finalLogW);
        }
        finally
        {
            owned?.Dispose();
        }
    }

    /// <summary>Particle k's incremental log weight at step <paramref name="t"/>: −(its total cost in the step), shape [K].</summary>
    private static Tensor IncrementalLogWeights(Trace trace, int t, int k)
    {
        if (trace.HasEnumeration)
            throw new NotSupportedException($"Aesmc.Run: step {t} has enumerated sites; AESMC supports sampled (pathwise) sites only.");
        // the incremental weight is p / q per particle; a closed-form KL is an expectation over q, not a weight
        GuideTerms.RequireNoAnalyticKl(trace, $"Aesmc.Run (step {t})");
        foreach (var site in trace.Samples)
            if (site.IsScoreFunction)
                throw new NotSupportedException(
                    $"Aesmc.Run: site '{site.Name}' at step {t} uses a score-function estimator; AESMC differentiates only through " +
                    "reparameterised draws (its score-function terms would need the resampling terms AESMC leaves out). Give the site a " +
                    "reparameterisable distribution with SiteEstimator.Pathwise, or replace the step's proposal by one.");
        var costs = PlateReduction.PerParticle(trace, Surrogate.CostOf, trace.ParticlePlate!);
        return costs is null ? Surrogate.Zero(trace).expand(k) : costs.flatten().neg();
    }

    /// <summary>The error for a step whose normalised weights are not finite, naming the step and the first bad particle.</summary>
    private static ArgumentException WeightError(int t, Tensor logw)
    {
        var values = logw.detach().to(CPU).to_type(ScalarType.Float64).data<double>().ToArray();
        for (var i = 0; i < values.Length; i++)
        {
            if (double.IsNaN(values[i]))
                return new ArgumentException(
                    $"Aesmc.Run: at step {t} the log weight of particle {i} is NaN. The weight is −(the particle's total cost in the step): " +
                    "log p of its observations and latents minus log q of its proposal; check the step's parameters and data, or run the step " +
                    "alone with Interpreter.Sample and Surrogate.Build, which name the site at fault.");
            if (double.IsPositiveInfinity(values[i]))
                return new ArgumentException(
                    $"Aesmc.Run: at step {t} the log weight of particle {i} is +∞ (a density is infinite at the proposed value, or a proposal " +
                    "density is zero there); check the step's scales and the proposal's support.");
        }
        return new ArgumentException(
            $"Aesmc.Run: at step {t} every particle has weight zero (all log weights are −∞): the step's observations are impossible " +
            "under every proposed state. Widen the proposal or check the data.");
    }

    private static void CheckParticleShape(int t, Tensor state, int k)
    {
        ArgumentNullException.ThrowIfNull(state);
        var shape = state.shape;
        if (shape.Length == 0 || shape[0] != k)
            throw new ArgumentException(
                $"Aesmc.Run: step {t} returned a state of shape [{string.Join(", ", shape)}], but particle states must carry the K = {k} " +
                "particles along their first dimension (values drawn in the step do). Return such a value (expand a value shared by all " +
                "particles to K first), or use the overload with a reindex function for other layouts.", "step");
    }
}
