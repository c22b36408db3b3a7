using static TorchSharp.torch;

namespace Scg.Objectives;

/// <summary>
/// What every objective built from a trace offers a training loop: a scalar to back-propagate and a detached
/// value to report. <see cref="Estimators.SurrogateObjective"/> (the sum of costs, the negative ELBO of a guided
/// run), <see cref="IwaeObjective"/> and the other objectives of this namespace implement it.
/// </summary>
public interface IObjective
{
    /// <summary>The scalar to back-propagate in a training step: its gradient is the objective's gradient
    /// estimate (plus the losses of whatever the objective trains alongside, such as learned baselines).</summary>
    Tensor Loss { get; }

    /// <summary>The value being minimised, detached, as a scalar: for a guided run the negative ELBO or the negative
    /// bound. Report it; do not differentiate it.</summary>
    Tensor Value { get; }
}
