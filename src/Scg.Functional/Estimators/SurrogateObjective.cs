using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>
/// The result of building a surrogate from a trace: <see cref="Surrogate"/> to differentiate, and
/// <see cref="Cost"/>, the plain objective to report.
/// </summary>
/// <param name="Surrogate">A scalar whose gradient is an unbiased estimate of ∇θ E[Σ costs]; its value is not
/// the objective.</param>
/// <param name="Cost">The sum of the run's costs (observations as −log p), averaged over particles; detached.</param>
public sealed record SurrogateObjective(Tensor Surrogate, Tensor Cost);
