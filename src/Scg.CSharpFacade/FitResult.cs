using System;
using System.Collections.Generic;

namespace Scg.Linq;

/// <summary>What <see cref="Training.Fit{T}"/> returns.</summary>
/// <param name="Values">The objective's value (<see cref="Objectives.IObjective.Value"/>) at every step this call took.</param>
/// <param name="FirstStep">The step this call started at: 0, or the step of the checkpoint it resumed from.</param>
/// <param name="StepsDone">The number of steps completed in all, resumed ones included.</param>
/// <param name="Elapsed">The wall-clock time this call trained.</param>
/// <param name="StoppedBy">Why it stopped.</param>
public sealed record FitResult(IReadOnlyList<double> Values, int FirstStep, int StepsDone, TimeSpan Elapsed, FitStop StoppedBy);
