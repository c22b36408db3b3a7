using System;
using System.Threading;
using Scg.Estimators;
using Scg.Objectives;
using Scg.Tracing;

namespace Scg.Linq;

/// <summary>
/// How <see cref="Training.Fit{T}"/> trains: how long, which objective, gradient clipping, reporting and checkpoints.
/// Every member has a default; <see cref="Steps"/> or <see cref="Budget"/> bounds the run.
/// </summary>
public sealed record FitOptions
{
    /// <summary>The most steps to take, counted from step 0 (a resumed run takes the remaining ones). Default 1000.</summary>
    public int Steps { get; init; } = 1000;

    /// <summary>A wall-clock budget: no step starts once it is spent (a resumed run gets a fresh budget). Null: none.</summary>
    public TimeSpan? Budget { get; init; }

    /// <summary>
    /// Builds each step's objective from its trace; null uses <see cref="Estimators.Surrogate.Build"/> with
    /// <see cref="Surrogate"/> (for a <see cref="Guided.Pair"/> run: the negative ELBO). For example
    /// <c>trace =&gt; Iwae.Build(trace)</c>.
    /// </summary>
    public Func<Trace, IObjective>? Objective { get; init; }

    /// <summary>Surrogate options of the default objective (its baseline; a learned baseline's module is registered
    /// in the store before the optimizer is built). Null: defaults.</summary>
    public SurrogateOptions? Surrogate { get; init; }

    /// <summary>Clip the gradient's total 2-norm over all trained parameters to this value before each optimizer
    /// step; the norm before clipping is reported in <see cref="TrainingStep.GradNorm"/>. Null: no clipping.</summary>
    public double? ClipGradNorm { get; init; }

    /// <summary>Called synchronously after every step, on the training thread (a plot, a log line, a stop rule
    /// through a <see cref="CancellationTokenSource"/>). Null: none.</summary>
    public Action<TrainingStep>? OnStep { get; init; }

    /// <summary>Receives every step's report (an <see cref="Progress{T}"/> posts it to its synchronisation context).
    /// Null: none.</summary>
    public IProgress<TrainingStep>? Progress { get; init; }

    /// <summary>A checkpoint file (<see cref="Interpretation.Checkpoint"/>): written every
    /// <see cref="CheckpointEvery"/> steps and when training stops; when it exists at the start and
    /// <see cref="Resume"/> is true, training continues from it. Null: no checkpoints.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>Steps between checkpoints (0: only when training stops). Default 0.</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>Continue from <see cref="CheckpointPath"/> when that file exists (parameters, baseline states,
    /// optimizer state, generator position and step). Default true.</summary>
    public bool Resume { get; init; } = true;

    /// <summary>Stops training between steps; the run then ends normally with <see cref="FitStop.Cancelled"/> (and a
    /// checkpoint, when asked for).</summary>
    public CancellationToken Cancellation { get; init; }
}
