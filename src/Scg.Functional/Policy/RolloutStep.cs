using static TorchSharp.torch;

namespace Scg.Policy;

/// <summary>One step of a recorded rollout: where to find its action and cost in the trace, what the policy saw,
/// and which episodes were still running.</summary>
/// <param name="Index">The step's index t, 0-based.</param>
/// <param name="ActionSite">The full name of the action's sample site (with any <see cref="Model.Scope{T}"/> prefix).</param>
/// <param name="CostName">The full name of the step's cost node: −reward · <paramref name="Alive"/>.</param>
/// <param name="Observation">The observation the action was chosen from ([N, …]), detached.</param>
/// <param name="Alive">1 where the episode had not ended before this step, else 0 ([N], the costs' type): the mask of
/// the step's cost and score term.</param>
public sealed record RolloutStep(int Index, string ActionSite, string CostName, Tensor Observation, Tensor Alive);
