using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>
/// The result of building a surrogate from a trace: <see cref="Surrogate"/> to differentiate, and
/// <see cref="Cost"/>, the plain objective to report.
/// </summary>
/// <param name="Surrogate">A scalar whose gradient is an unbiased estimate of ∇θ E[Σ costs]; its value is not
/// the objective.</param>
/// <param name="Cost">The sum of the run's costs (observations as −log p), averaged over particles; detached.</param>
public sealed record SurrogateObjective(Tensor Surrogate, Tensor Cost) : Objectives.IObjective
{
    /// <summary>
    /// False when nothing in the trace depends on a tensor that requires a gradient (no cost, observation or
    /// score-function site reaches a parameter): <see cref="Surrogate"/> is then only connected to a fresh
    /// zero leaf, so that <c>backward()</c> does nothing and <c>torch.autograd.grad</c> with
    /// <c>allow_unused: true</c> answers an undefined tensor (no gradient) for each input instead of terminating
    /// the process. (TorchSharp 0.107 terminates the process on any error inside <c>torch.autograd.grad</c>,
    /// so with <c>allow_unused: false</c> an input the surrogate does not use still does.) Training loops should
    /// treat false as a mistake in the model (parameters created without <c>requires_grad</c>, or read outside
    /// <c>Model.Param</c>).
    /// </summary>
    public bool HasGradient { get; init; } = true;

    /// <summary>
    /// The least-squares loss of the learned baselines (the sum over their sites of the mean squared difference
    /// between baseline and detached cost-to-go), or null when no site has one. Its gradient reaches only the
    /// baselines' modules, and the surrogate's only the model's parameters, so minimising
    /// <c>Surrogate + BaselineLoss</c> with one optimizer trains both without either leaking into the other.
    /// </summary>
    public Tensor? BaselineLoss { get; init; }

    /// <summary>
    /// What to back-propagate in a training step: <see cref="Surrogate"/>, plus <see cref="BaselineLoss"/> when
    /// there is one.
    /// </summary>
    public Tensor Loss => BaselineLoss is null ? Surrogate : Surrogate + BaselineLoss;

    /// <summary>The same as <see cref="Cost"/>: the value the training minimises.</summary>
    public Tensor Value => Cost;
}
