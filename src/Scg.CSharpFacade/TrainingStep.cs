using System;

namespace Scg.Linq;

/// <summary>What a training loop reports after each step.</summary>
/// <param name="Step">The step number, from 0.</param>
/// <param name="Cost">The value the step minimised (<see cref="Objectives.IObjective.Value"/>: the sum of its costs,
/// averaged over particles, for the default objective).</param>
public sealed record TrainingStep(int Step, double Cost)
{
    /// <summary>Wall-clock time since the loop started (this call of the loop, for a resumed run).</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>The gradient's total 2-norm before clipping, when <see cref="FitOptions.ClipGradNorm"/> is set; else null.</summary>
    public double? GradNorm { get; init; }
}
