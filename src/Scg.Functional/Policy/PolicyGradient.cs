using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Policy;

/// <summary>
/// The policy-gradient objective of a rollout (<see cref="PolicyRollout.Model"/>): the estimator of
/// <c>scg-math.md</c> §1 with costs = −rewards and the actions as stochastic nodes, plus discounting, value baselines,
/// critics and GAE(λ) (§2, §6). For step t with mask m_t (1 while the episode runs), log-probability log π(a_t | s_t) and
/// signal ψ_t:
/// <code>S = (1/N) Σ_n Σ_t [ γ^t c_t + γ^t m_t log π(a_t | s_t) · ⊥ψ_t ]</code>
/// where ψ_t is the discounted cost-to-go G_t = Σ_{t' ≥ t} γ^{t'−t} c_{t'}, G_t − V(s_t) with a value baseline, or the
/// GAE(λ) advantage with a critic. Costs after an episode's end are zero (the rollout masks them) and its later actions
/// add no score term. With γ = 1 and no baseline, S is <see cref="Estimators.Surrogate.Build"/>'s surrogate divided
/// by N (same gradient, up to masking of actions after the end, whose terms are zero there since their cost-to-go is).
/// </summary>
public static class PolicyGradient
{
    /// <summary>Builds the objective from a rollout's run.</summary>
    /// <param name="trace">The trace of the run of <see cref="PolicyRollout.Model"/> (one run, no particles).</param>
    /// <param name="rollout">The run's value.</param>
    /// <param name="options">Discount, baseline, critic; <see cref="PolicyGradientOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentException">A step's site is missing from the trace, the run had particles, or an
    /// environment site is a score-function site whose log-probability depends on parameters (this objective credits
    /// only actions: use <see cref="Estimators.Surrogate.Build"/> for such models).</exception>
    public static PolicyGradientObjective Build(Trace trace, Rollout rollout, PolicyGradientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(rollout);
        options ??= PolicyGradientOptions.Default;
        options.Check();
        if (trace.ParticleCount > 1)
            throw new ArgumentException(
                $"PolicyGradient.Build reads one rollout of N environments; the run had {trace.ParticleCount} particles. " +
                "Run with more environments instead.", nameof(trace));
        if (rollout.Steps.IsEmpty) throw new ArgumentException("The rollout has no steps.", nameof(rollout));
        var steps = rollout.Steps;
        var actions = new HashSet<string>(steps.Select(s => s.ActionSite));
        foreach (var site in trace.Samples)
            if (site.IsScoreFunction && !actions.Contains(site.Name) && site.LogProb.requires_grad)
                throw new ArgumentException(
                    $"Sample site '{site.Name}' is a score-function site whose log-probability depends on learnable parameters, " +
                    "but is no action of the rollout: PolicyGradient.Build credits only actions. Use Surrogate.Build on this trace.", nameof(trace));

        var costs = stack(steps.Select(s => trace.Cost(s.CostName).Value).ToArray());              // [T, N]
        var alive = stack(steps.Select(s => s.Alive).ToArray());                                     // [T, N]
        var gamma = options.Gamma;
        var discount = Discounts(steps.Count, gamma, costs);                                        // [T, 1]
        var n = (double)rollout.Count;
        var detachedCosts = costs.detach();

        var costToGo = Returns.CostToGo(detachedCosts, gamma);
        Tensor signal = costToGo;
        Tensor? valueLoss = null;
        if (options.Value is { } vf)
        {
            var module = trace.Store?.GetOrAddModule(vf.Name, vf.Module) ?? vf.Module;
            var values = ValuesOf(module, vf.Name, steps, costs);                                  // [T, N], differentiable in ψ
            var v = values.detach();
            Tensor target;
            if (options.Lambda is { } lambda)
            {
                var aliveNext = cat([alive[TensorIndex.Slice(1)], zeros_like(alive[TensorIndex.Slice(0, 1)])]);
                signal = Returns.Advantages(detachedCosts, v, alive, aliveNext, gamma, lambda);
                target = signal + v;
            }
            else
            {
                signal = costToGo - v;
                target = costToGo;
            }
            var count = alive.sum().clamp_min(1.0);
            valueLoss = (values - target).square().mul(alive).sum().div(count).mul(options.ValueLossWeight);
        }

        var scoreWeight = options.DropStateDiscount ? alive : alive * discount;
        Tensor score = zeros(1, costs.dtype).squeeze();
        var logProbs = new List<Tensor>(steps.Count);
        var scoredRows = new List<long>(steps.Count);
        for (var t = 0; t < steps.Count; t++)
        {
            var site = trace.Sample(steps[t].ActionSite);
            if (!site.IsScoreFunction) continue;   // pathwise: its gradient flows through the costs
            logProbs.Add(site.LogProb);
            scoredRows.Add(t);
        }
        if (logProbs.Count > 0)
        {
            var rows = tensor(scoredRows.ToArray());
            var lp = stack(logProbs).to_type(costs.dtype);
            score = (lp * (scoreWeight.index_select(0, rows) * signal.index_select(0, rows)).detach()).sum();
        }
        var discounted = (costs * discount).sum();
        var surrogate = (discounted + score) / n;
        return new PolicyGradientObjective(surrogate, discounted.detach() / n, valueLoss);
    }

    /// <summary>γ^t for t = 0 … T − 1, as a [T, 1] column in the costs' type.</summary>
    private static Tensor Discounts(int steps, double gamma, Tensor like)
    {
        var d = new double[steps];
        var g = 1.0;
        for (var t = 0; t < steps; t++, g *= gamma) d[t] = g;
        return tensor(d, like.dtype).unsqueeze(1);
    }

    /// <summary>V(s_t) for every step, [T, N], from one call of the module on the stacked observations.</summary>
    private static Tensor ValuesOf(nn.Module<Tensor, Tensor> module, string name, IReadOnlyList<RolloutStep> steps, Tensor costs)
    {
        var obs = stack(steps.Select(s => s.Observation).ToArray());                               // [T, N, …]
        var type = module.parameters().Select(p => p.dtype).FirstOrDefault(IsFloat, costs.dtype);
        var input = obs.to_type(type);
        Tensor values;
        try
        {
            values = module.call(input);
        }
        catch (System.Runtime.InteropServices.ExternalException e)
        {
            throw new ArgumentException(
                $"Value function '{name}' failed on observations of shape [{string.Join(", ", input.shape)}] (steps, environments, …): {e.Message}", e);
        }
        if (values.Dimensions == 3 && values.shape[2] == 1) values = values.squeeze(-1);
        if (values.Dimensions != 2 || values.shape[0] != costs.shape[0] || values.shape[1] != costs.shape[1])
            throw new ArgumentException(
                $"Value function '{name}' returned shape [{string.Join(", ", values.shape)}] for observations of shape " +
                $"[{string.Join(", ", input.shape)}]; it must return one value per step and environment, [{costs.shape[0]}, {costs.shape[1]}] (or with a last dimension of 1).");
        return values.to_type(costs.dtype);
    }

    private static bool IsFloat(ScalarType t) =>
        t is ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float32 or ScalarType.Float64;
}
