using Scg.Estimators;
using static TorchSharp.torch;

namespace Scg.Objectives;

/// <summary>The result of <see cref="Elbo.Build"/>.</summary>
/// <param name="Surrogate">The surrogate built from the trace: its <see cref="SurrogateObjective.Surrogate"/> has
/// the gradient of −ELBO, and its <see cref="SurrogateObjective.BaselineLoss"/> trains learned baselines.</param>
public sealed record ElboObjective(SurrogateObjective Surrogate) : IObjective
{
    /// <summary>−ELBO (detached), the value a training loop minimises: the run's total cost, averaged over particles.</summary>
    public Tensor Value => Surrogate.Cost;

    /// <summary>The ELBO estimate of this run (detached): report it; it is at most log p(x) in expectation.</summary>
    public Tensor Bound => -Surrogate.Cost;

    /// <summary>What a training step back-propagates: the surrogate plus the baselines' loss.</summary>
    public Tensor Loss => Surrogate.Loss;
}
