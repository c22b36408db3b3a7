using System.Collections.Immutable;

namespace Scg.Policy;

/// <summary>
/// The value of a rollout model (<see cref="PolicyRollout.Model"/>): its steps in order, with the names of their
/// action sites and costs, for <see cref="PolicyGradient.Build"/> to read from the run's trace.
/// </summary>
/// <param name="Count">The number of environments N (the plate's size).</param>
/// <param name="Steps">The steps taken; fewer than the horizon when every episode ended early.</param>
/// <param name="Last">The environments' last report.</param>
public sealed record Rollout(long Count, ImmutableList<RolloutStep> Steps, EnvironmentStep Last)
{
    /// <summary>Each episode's undiscounted return Σ_t reward_t ([N], detached): minus the sum of its costs.</summary>
    /// <param name="trace">The trace of the run that produced this rollout.</param>
    public TorchSharp.torch.Tensor Returns(Tracing.Trace trace)
    {
        System.ArgumentNullException.ThrowIfNull(trace);
        var total = TorchSharp.torch.zeros(Count, Last.Reward.dtype);
        foreach (var s in Steps) total = total - trace.Cost(s.CostName).Value.detach();
        return total;
    }
}
