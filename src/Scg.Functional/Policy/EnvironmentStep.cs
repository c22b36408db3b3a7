using System;
using static TorchSharp.torch;

namespace Scg.Policy;

/// <summary>
/// What a batched environment reports after a reset or a step, for all N environments at once (a plate of N): each
/// tensor has the environments along its first dimension.
/// </summary>
/// <param name="State">The environments' full state, as the environment needs it for its next step ([N, …]).</param>
/// <param name="Observation">What the policy sees ([N, …]): read by the policy and by value baselines, recorded before
/// the action that follows it, so it is a non-descendant of that action.</param>
/// <param name="Reward">The reward of the step just taken ([N]); zero after a reset. The rollout records its negative
/// as the step's cost.</param>
/// <param name="Done">True where the episode ended with this step ([N], boolean). An environment may keep stepping
/// after it is done; the rollout masks what follows (zero costs, no score terms).</param>
public sealed record EnvironmentStep(Tensor State, Tensor Observation, Tensor Reward, Tensor Done)
{
    /// <summary>The number of environments, the size of the first dimension of <see cref="Reward"/>.</summary>
    public long Count => Reward.shape.Length == 1
        ? Reward.shape[0]
        : throw new InvalidOperationException($"An environment step's reward must have shape [N] (got [{string.Join(", ", Reward.shape)}]).");
}
