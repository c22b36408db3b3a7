namespace Scg.Policy;

/// <summary>
/// N environments that step together as tensors: one plate of N episodes. Resets and steps are models, so an
/// environment with random transitions records them as sample sites (states of a stochastic environment are nodes of
/// the graph like actions are); a deterministic one returns <see cref="Model.Return{T}(T)"/>. Episodes may end at
/// different steps: <see cref="EnvironmentStep.Done"/> says which, and the rollout masks each episode after its end.
/// </summary>
/// <remarks>Implementations are values: <see cref="Reset"/> and <see cref="Step"/> read their arguments and return
/// new tensors, and keep no state of their own between calls (the state travels in <see cref="EnvironmentStep.State"/>).
/// Their sample sites run inside the rollout's plate of <see cref="Count"/> environments, so their batch shape is
/// [N]; name them uniquely per step (for example <c>$"s{t + 1}"</c>). Their distributions must not depend on learnable
/// parameters: <see cref="PolicyGradient.Build"/> credits only the actions with score terms.</remarks>
public interface IBatchedEnvironment
{
    /// <summary>The number of environments N.</summary>
    long Count { get; }

    /// <summary>Starts N episodes: the initial state and observation, zero rewards, nothing done.</summary>
    Model<EnvironmentStep> Reset();

    /// <summary>Steps every environment once.</summary>
    /// <param name="previous">The step before (or the reset).</param>
    /// <param name="action">The actions, one per environment ([N, …]).</param>
    /// <param name="t">The step's index, 0-based (use it to name sample sites).</param>
    Model<EnvironmentStep> Step(EnvironmentStep previous, TorchSharp.torch.Tensor action, int t);
}
