using System;
using Scg.Interpretation;
using static TorchSharp.torch;

namespace Scg.VarianceReport;

/// <summary>
/// One way of estimating the gradient of an unchanged model: the run-time estimator overrides, the learning signal
/// (total cost or cost-to-go), the number of vectorised particles, and what happens before measuring.
/// </summary>
/// <param name="Key">The label in the table, for example "(c)".</param>
/// <param name="Description">What the configuration does, in a few words.</param>
/// <param name="Overrides">The estimators chosen for the model's sites; null when the configuration does not apply
/// to the model (the table then says why, from <see cref="NotApplicable"/>).</param>
/// <param name="TotalCost">Use the run's total cost as every site's learning signal (plain REINFORCE).</param>
/// <param name="Particles">K vectorised particles (0: none). The reported variance is that of one K-particle
/// estimate multiplied by K: the variance per sample, so that averaging K draws is not counted as a gain.</param>
/// <param name="WarmUp">Runs (surrogates built, no gradient taken) before measuring, so moving averages settle.</param>
/// <param name="Pretrain">Learned-baseline modules to pre-train with the surrogate's baseline loss before measuring
/// (then frozen); none when null.</param>
/// <param name="NotApplicable">Why the configuration does not apply, when <paramref name="Overrides"/> is null.</param>
internal sealed record Configuration(
    string Key,
    string Description,
    EstimatorOverrides? Overrides,
    bool TotalCost = false,
    int Particles = 0,
    int WarmUp = 0,
    nn.Module[]? Pretrain = null,
    string? NotApplicable = null)
{
    /// <summary>The factor that turns the variance of one estimate into the variance per sample.</summary>
    public int PerSampleFactor => Math.Max(1, Particles);
}
