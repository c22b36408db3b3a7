using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>
/// The result of building a surrogate from a trace: <see cref="Surrogate"/> to differentiate, and
/// <see cref="Cost"/>, the plain objective to report.
/// </summary>
/// <param name="Surrogate">A scalar whose gradient is an unbiased estimate of ∇θ E[Σ costs]; its value is not
/// the objective.</param>
/// <param name="Cost">The sum of the run's costs (observations as −log p), averaged over particles; detached.</param>
public sealed record SurrogateObjective(Tensor Surrogate, Tensor Cost)
{
    /// <summary>
    /// False when nothing in the trace depends on a tensor that requires a gradient (no cost, observation or
    /// score-function site reaches a parameter): <see cref="Surrogate"/> is then only connected to a fresh
    /// zero leaf, so that <c>backward()</c> does nothing and <c>torch.autograd.grad</c> with
    /// <c>allow_unused: true</c> answers zeros instead of terminating the process. Training loops should
    /// treat false as a mistake in the model (parameters created without <c>requires_grad</c>, or read outside
    /// <c>Model.Param</c>).
    /// </summary>
    public bool HasGradient { get; init; } = true;
}
