using System;
using System.Collections.Immutable;
using Scg.Distributions;
using static TorchSharp.torch;

namespace Scg.Policy;

/// <summary>
/// A policy's episodes written as a model: N environments in a plate step together for at most a horizon of T steps;
/// each step samples the action from the policy's distribution (a sample site, score-function for discrete actions,
/// pathwise for reparameterisable continuous ones) and records the step's cost, −reward, masked to zero once the
/// episode has ended. The steps are a <see cref="Model.Repeat{TState}"/>, so long horizons keep the call stack flat;
/// when every episode has ended the remaining steps record nothing.
/// </summary>
/// <remarks>
/// Every node of step t is downstream of everything before it (program order), and element n of a step is upstream
/// only of element n of later steps (the plate), so <see cref="Estimators.Surrogate.Build"/> on the run's trace already
/// credits each action with the costs after it in its own episode (the γ = 1 cost-to-go). <see cref="PolicyGradient.Build"/>
/// adds discounting, masking of score terms after an episode's end, value baselines, critics and GAE(λ).
/// (Surrogate.Build does not mask the actions taken after an episode's end: their cost-to-go is zero, so without a
/// baseline their terms vanish; with one they add terms of mean zero: unbiased, but noisier.)
/// </remarks>
public static class PolicyRollout
{
    /// <summary>The rollout model.</summary>
    /// <param name="environment">The N environments.</param>
    /// <param name="policy">The action distribution for each environment ([N] batch) given the observations ([N, …])
    /// and the step t; a model, so it can read parameters and modules from the run's store.</param>
    /// <param name="horizon">The most steps an episode takes, T ≥ 1.</param>
    /// <param name="actionEstimator">The estimator of step t's action site, or null for the distribution's default
    /// (score function for discrete actions, pathwise for reparameterisable ones). A
    /// <see cref="Estimators.Baseline.Learned"/> baseline attached here is checked as usual: one that reads the action
    /// it baselines, or a site after it, is refused when the surrogate is built.</param>
    /// <param name="plate">The name of the environments' plate.</param>
    /// <param name="actionName">The name of step t's action site: "a{t}" by default. Step t's cost is "c{t}"; keep
    /// the environment's own sites apart from both.</param>
    public static Model<Rollout> Model(
        IBatchedEnvironment environment,
        Func<Tensor, int, Model<Distribution>> policy,
        int horizon,
        Func<int, SiteEstimator?>? actionEstimator = null,
        string plate = "env",
        Func<int, string>? actionName = null)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentException.ThrowIfNullOrEmpty(plate);
        if (horizon < 1) throw new ArgumentOutOfRangeException(nameof(horizon), $"A rollout's horizon must be at least 1 step (got {horizon}).");
        var n = environment.Count;
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(environment), $"A batched environment must hold at least one environment (got {n}).");
        var nameOf = actionName ?? (t => $"a{t}");
        var body = Scg.Model.Bind(Scg.Model.NamePrefix(), prefix =>
            Scg.Model.Bind(environment.Reset(), first =>
            {
                CheckCount(first, n, "Reset");
                var start = new State(first, ones(n, first.Reward.dtype), ImmutableList<RolloutStep>.Empty, false);
                return Scg.Model.Map(
                    Scg.Model.Repeat(horizon, start, (s, t) => s.Finished ? Scg.Model.Return(s) : StepOf(s, t, prefix)),
                    s => new Rollout(n, s.Steps, s.Last));
            }));
        return Scg.Model.Plate(plate, n, body);

        // The steps record full names (the Model.Scope prefix in front), as the trace holds them.
        Model<State> StepOf(State s, int t, string prefix) =>
            Scg.Model.Bind(policy(s.Last.Observation, t) ?? throw new InvalidOperationException($"The policy returned a null model at step {t}."), dist =>
            Scg.Model.Bind(Scg.Model.Sample(nameOf(t), dist, actionEstimator?.Invoke(t)), action =>
            Scg.Model.Bind(environment.Step(s.Last, action, t), next =>
            {
                CheckCount(next, n, $"Step {t}");
                var costName = $"c{t}";
                var cost = next.Reward.neg().mul(s.Alive);
                var alive = s.Alive.mul(next.Done.logical_not().to_type(s.Alive.dtype));
                var step = new RolloutStep(t, prefix + nameOf(t), prefix + costName, s.Last.Observation.detach(), s.Alive);
                return Scg.Model.Map(Scg.Model.Cost(costName, cost), _ =>
                    new State(next, alive, s.Steps.Add(step), !alive.any().item<bool>()));
            })));
    }

    private static void CheckCount(EnvironmentStep step, long n, string what)
    {
        ArgumentNullException.ThrowIfNull(step);
        if (step.Count != n || step.Done.shape.Length != 1 || step.Done.shape[0] != n)
            throw new ArgumentException(
                $"The environment's {what} reported rewards of shape [{string.Join(", ", step.Reward.shape)}] and done flags of shape " +
                $"[{string.Join(", ", step.Done.shape)}]; both must be [{n}], one per environment.");
    }

    /// <summary>The rollout's state between steps: the last report, the alive mask, the steps so far.</summary>
    private sealed record State(EnvironmentStep Last, Tensor Alive, ImmutableList<RolloutStep> Steps, bool Finished);
}
