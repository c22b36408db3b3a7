using static TorchSharp.torch;

namespace Scg.Objectives;

/// <summary>The result of <see cref="WakeSleep.Build"/>: the model's and the guide's losses, apart and together.</summary>
/// <param name="Bound">The importance-weighted bound L = log (1/K) Σ_k w_k of the wake run (detached): report it.</param>
/// <param name="ThetaLoss">Wake-θ's loss: its gradient with respect to the model's parameters is −Σ_k w̄_k ∇θ log p(x, z_k),
/// and it has none with respect to the guide's (a zero scalar when wake-θ was not asked for). Step the model's
/// optimizer with it.</param>
/// <param name="PhiLoss">Wake-φ's loss plus sleep-φ's (those asked for): its gradient with respect to the guide's
/// parameters is the phases' negative ascent direction, and it has none with respect to the model's (with DReG, none
/// as long as the guide reads no model parameter). Step the guide's optimizer with it.</param>
/// <param name="LogWeights">The K log weights log w_k of the wake run (detached).</param>
/// <remarks>The two losses share the run's autograd graph: back-propagate the first with <c>retain_graph: true</c>, or
/// back-propagate <see cref="Loss"/> once.</remarks>
public sealed record WakeSleepObjective(Tensor Bound, Tensor ThetaLoss, Tensor PhiLoss, Tensor LogWeights) : IObjective
{
    /// <summary><see cref="ThetaLoss"/> + <see cref="PhiLoss"/>: since neither has a gradient for the other's parameters,
    /// one optimizer over both sets of parameters takes both phases' steps.</summary>
    public Tensor Loss => Estimators.Surrogate.JoinedToLeaf(ThetaLoss + PhiLoss);

    /// <summary>−<see cref="Bound"/>, the negative importance-weighted bound of the wake run.</summary>
    public Tensor Value => -Bound;
}
