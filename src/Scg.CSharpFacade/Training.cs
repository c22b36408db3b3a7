using System;
using System.Collections.Generic;
using Stopwatch = System.Diagnostics.Stopwatch;
using System.IO;
using System.Linq;
using System.Threading;
using Scg.Estimators;
using Scg.Interpretation;
using Scg.Objectives;
using Scg.Tracing;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Scg.Linq;

/// <summary>
/// A plain stochastic-gradient loop: each step runs the step's model, builds its surrogate, back-propagates its
/// <see cref="SurrogateObjective.Loss"/> (the surrogate, plus the loss of learned baselines, so that an optimizer over
/// the store trains them too) and lets the optimizer step, inside one TorchSharp dispose scope so that long runs stay flat in memory.
/// </summary>
/// <remarks>
/// A <see cref="RunOptions.Seed"/> seeds one generator for the whole loop, so every step draws fresh noise and
/// two loops with the same seed give the same costs (on CPU).
/// </remarks>
public static class Training
{
    /// <summary>
    /// Trains for <paramref name="steps"/> steps with an optimizer that already holds the parameters, and returns
    /// the cost of every step. Parameters exist only once a model has read them, so build the optimizer after
    /// <see cref="ParamStore.Initialize{T}"/>, or use the overload that takes an optimizer factory.
    /// </summary>
    /// <typeparam name="T">The model's value type.</typeparam>
    /// <param name="modelForStep">Builds the model of step t (for example on the t-th minibatch).</param>
    /// <param name="optimizer">A TorchSharp optimizer over the parameters to train (it is zeroed every step).</param>
    /// <param name="steps">The number of steps.</param>
    /// <param name="options">Run options for every step (seed or generator, parameter store, particles).</param>
    /// <param name="surrogate">Surrogate options (baseline); defaults when null.</param>
    /// <param name="progress">Receives each step's cost; may be null.</param>
    /// <param name="cancellation">Stops the loop between steps.</param>
    public static IReadOnlyList<double> Train<T>(
        Func<int, Model<T>> modelForStep,
        optim.Optimizer optimizer,
        int steps,
        RunOptions? options = null,
        SurrogateOptions? surrogate = null,
        IProgress<TrainingStep>? progress = null,
        CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(modelForStep);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        var fit = new FitOptions { Steps = steps, Surrogate = surrogate, Progress = progress, Cancellation = cancellation };
        return Loop(modelForStep, optimizer, options ?? RunOptions.Default, fit, 0, null, null, throwOnCancel: true).Values;
    }

    /// <summary>
    /// Creates the parameters of the first step's model in <paramref name="store"/> (see
    /// <see cref="ParamStore.Initialize{T}"/>) and the module of a learned <see cref="SurrogateOptions.Baseline"/>,
    /// builds the optimizer over all of the store's parameters with
    /// <paramref name="makeOptimizer"/>, trains for <paramref name="steps"/> steps and returns the cost of every
    /// step. The trained parameters stay in <paramref name="store"/>.
    /// </summary>
    /// <typeparam name="T">The model's value type.</typeparam>
    /// <param name="modelForStep">Builds the model of step t (for example on the t-th minibatch).</param>
    /// <param name="store">The parameter store to create and train the parameters in.</param>
    /// <param name="makeOptimizer">Builds the optimizer from the parameters, for example
    /// <c>ps =&gt; torch.optim.Adam(ps, 1e-3)</c>.</param>
    /// <param name="steps">The number of steps.</param>
    /// <param name="options">Run options for every step (seed or generator, particles); their
    /// <see cref="RunOptions.Params"/> must be null or <paramref name="store"/>.</param>
    /// <param name="surrogate">Surrogate options (baseline); defaults when null.</param>
    /// <param name="progress">Receives each step's cost; may be null.</param>
    /// <param name="cancellation">Stops the loop between steps.</param>
    /// <exception cref="ArgumentException"><paramref name="options"/> names another store.</exception>
    public static IReadOnlyList<double> Train<T>(
        Func<int, Model<T>> modelForStep,
        ParamStore store,
        Func<IEnumerable<Parameter>, optim.Optimizer> makeOptimizer,
        int steps,
        RunOptions? options = null,
        SurrogateOptions? surrogate = null,
        IProgress<TrainingStep>? progress = null,
        CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(modelForStep);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(makeOptimizer);
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        var (optimizer, prepared) = Prepare(modelForStep, store, makeOptimizer, options, surrogate, "Training.Train", 0);
        var fit = new FitOptions { Steps = steps, Surrogate = surrogate, Progress = progress, Cancellation = cancellation };
        return Loop(modelForStep, optimizer, prepared, fit, 0, null, null, throwOnCancel: true).Values;
    }


    /// <summary>
    /// The full training helper. Creates the first step's parameters in <paramref name="store"/> (or restores them
    /// from <see cref="FitOptions.CheckpointPath"/>), builds the optimizer over them with
    /// <paramref name="makeOptimizer"/> (for example <c>ps =&gt; torch.optim.Adam(ps, 1e-3)</c>), then trains until
    /// <see cref="FitOptions.Steps"/> steps are done, the <see cref="FitOptions.Budget"/> is spent or
    /// <see cref="FitOptions.Cancellation"/> is signalled. Each step runs the step's model, builds its objective
    /// (<see cref="FitOptions.Objective"/>; the surrogate by default), back-propagates its
    /// <see cref="Objectives.IObjective.Loss"/>, clips the gradient if asked, and steps the optimizer.
    /// </summary>
    /// <remarks>
    /// With <see cref="RunOptions.Seed"/> one generator serves the whole run, and a checkpoint saves its position,
    /// so a run resumed from a checkpoint gives the same values as an unbroken one (on the CPU). A non-finite
    /// objective (and, with <see cref="FitOptions.ClipGradNorm"/>, a non-finite gradient norm) stops training with an
    /// exception naming the step, before the optimizer steps, so the parameters keep their last finite values.
    /// </remarks>
    /// <typeparam name="T">The model's value type.</typeparam>
    /// <param name="modelForStep">Builds the model of step t (for example on the t-th minibatch).</param>
    /// <param name="store">The parameter store to create (or restore) and train the parameters in.</param>
    /// <param name="makeOptimizer">Builds the optimizer from the store's parameters.</param>
    /// <param name="fit">How to train; null: <see cref="FitOptions"/>' defaults (1000 steps of the surrogate).</param>
    /// <param name="options">Run options for every step (seed or generator, particles, estimators); their
    /// <see cref="RunOptions.Params"/> must be null or <paramref name="store"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="options"/> names another store, or a fit option is out of range.</exception>
    /// <exception cref="InvalidOperationException">The model creates no parameter.</exception>
    /// <exception cref="TrainingStepException">A step failed (the first run, which creates the parameters, counts as the
    /// first step): its objective has no gradient or is not finite, or running the model or building the objective raised
    /// an error (its <c>InnerException</c>); the message starts with the step's number.</exception>
    /// <exception cref="InvalidOperationException">Also: the checkpoint was written by another model or optimizer (its
    /// parameter shapes, names or optimizer state differ); the message names the file.</exception>
    public static FitResult Fit<T>(
        Func<int, Model<T>> modelForStep,
        ParamStore store,
        Func<IEnumerable<Parameter>, optim.Optimizer> makeOptimizer,
        FitOptions? fit = null,
        RunOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(modelForStep);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(makeOptimizer);
        fit ??= new FitOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(fit.Steps, "fit.Steps");
        ArgumentOutOfRangeException.ThrowIfNegative(fit.CheckpointEvery, "fit.CheckpointEvery");
        if (fit.ClipGradNorm is { } clip && !(clip > 0 && double.IsFinite(clip)))
            throw new ArgumentOutOfRangeException(nameof(fit), clip, "FitOptions.ClipGradNorm must be a positive finite norm.");
        if (fit.Budget is { } budget && budget < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(fit), budget, "FitOptions.Budget must not be negative.");
        var checkpoint = fit.CheckpointPath is { } path && fit.Resume && File.Exists(path) ? Checkpoint.Read(path) : null;
        var first = checkpoint?.Step ?? 0;
        // the model creates its parameters first, so that a checkpoint of another model fails on their shapes by name
        var (optimizer, prepared) = Prepare(modelForStep, store, makeOptimizer, options, fit.Surrogate, "Training.Fit", first,
                                            () => Restore(checkpoint, c => c.RestoreStore(store)));
        Restore(checkpoint, c => c.RestoreOptimizer(optimizer));
        return Loop(modelForStep, optimizer, prepared, fit, first, checkpoint, store, throwOnCancel: false);
    }

    /// <summary>Restores part of a checkpoint, turning a mismatch into an error that names the file and the way out.</summary>
    private static void Restore(Checkpoint? checkpoint, Action<Checkpoint> restore)
    {
        if (checkpoint is null) return;
        try
        {
            restore(checkpoint);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidOperationException(
                $"Training.Fit: the checkpoint '{checkpoint.Path}' does not fit this model and optimizer ({e.Message}). It was " +
                "written by another model, another optimizer or other parameter shapes: delete it, or set FitOptions.Resume = false " +
                "to start afresh (the file is then overwritten).", e);
        }
    }

    private static (optim.Optimizer Optimizer, RunOptions Options) Prepare<T>(
        Func<int, Model<T>> modelForStep, ParamStore store, Func<IEnumerable<Parameter>, optim.Optimizer> makeOptimizer,
        RunOptions? options, SurrogateOptions? surrogate, string caller, int first, Action? afterInitialize = null)
    {
        if (options?.Params is { } other && !ReferenceEquals(other, store))
            throw new ArgumentException($"{caller}: options.Params is another store than 'store'; leave it null or pass the same store.", nameof(options));
        options = (options ?? RunOptions.Default) with { Params = store };
        try
        {
            store.Initialize(modelForStep(first), options);
        }
        catch (Exception e) when (e is not (OperationCanceledException or OutOfMemoryException))
        {
            throw new TrainingStepException(first, $"the run that creates the parameters failed: {e.Message}", e);
        }
        afterInitialize?.Invoke();
        if (surrogate?.Baseline is LearnedBaseline learned)
            store.GetOrAddModule(learned.Name, learned.Module);   // registered before the optimizer takes the store's parameters
        var parameters = store.Parameters();
        if (!parameters.Any())
            throw new InvalidOperationException(
                $"{caller}: the model created no parameter in the store (through Model.Param, Model.Module or a learned " +
                "baseline), so the optimizer would train nothing. Read trainable tensors with Model.Param, or build the optimizer over " +
                "your own tensors and use the Training.Train overload that takes it.");
        var optimizer = makeOptimizer(parameters)
            ?? throw new InvalidOperationException($"{caller}: makeOptimizer returned null instead of an optimizer.");
        return (optimizer, options);
    }

    private static FitResult Loop<T>(
        Func<int, Model<T>> modelForStep, optim.Optimizer optimizer, RunOptions options, FitOptions fit, int first,
        Checkpoint? checkpoint, ParamStore? store, bool throwOnCancel)
    {
        // one generator for the whole loop: a generator made from the seed at every step would redraw the same noise
        using var seeded = options is { Generator: null, Seed: { } seed } ? new Generator(seed, CPU) : null;
        if (seeded is not null) options = options with { Generator = seeded };
        if (checkpoint is not null && options.Generator is { } generator) checkpoint.RestoreGenerator(generator);
        var objectiveOf = fit.Objective ?? (trace => Surrogate.Build(trace, fit.Surrogate));
        var trained = fit.ClipGradNorm is null ? null : optimizer.parameters().ToList();
        var clock = Stopwatch.StartNew();
        var values = new List<double>(Math.Max(0, Math.Min(fit.Steps - first, 1 << 16)));
        var stop = FitStop.Steps;
        var t = first;
        for (; t < fit.Steps; t++)
        {
            if (fit.Cancellation.IsCancellationRequested)
            {
                if (throwOnCancel) fit.Cancellation.ThrowIfCancellationRequested();
                stop = FitStop.Cancelled;
                break;
            }
            if (fit.Budget is { } budget && clock.Elapsed >= budget)
            {
                stop = FitStop.Budget;
                break;
            }
            TrainingStep report;
            try
            {
                report = Step(modelForStep, optimizer, ref options, objectiveOf, fit.ClipGradNorm, trained, t, clock);
            }
            catch (Exception e) when (e is not (TrainingStepException or OperationCanceledException or OutOfMemoryException))
            {
                throw new TrainingStepException(t, e.Message, e);
            }
            values.Add(report.Cost);
            fit.OnStep?.Invoke(report);
            fit.Progress?.Report(report);
            if (store is not null && fit is { CheckpointPath: { } path, CheckpointEvery: > 0 } && (t + 1) % fit.CheckpointEvery == 0)
                Checkpoint.Save(path, t + 1, store, optimizer, options.Generator);
        }
        if (store is not null && fit.CheckpointPath is { } final)
            Checkpoint.Save(final, t, store, optimizer, options.Generator);
        return new FitResult(values, first, t, clock.Elapsed, stop);
    }

    private static TrainingStep Step<T>(
        Func<int, Model<T>> modelForStep, optim.Optimizer optimizer, ref RunOptions options, Func<Trace, IObjective> objectiveOf,
        double? clip, List<Parameter>? trained, int t, Stopwatch clock)
    {
        using var scope = NewDisposeScope();
        var run = Interpreter.Sample(modelForStep(t), options);
        var objective = objectiveOf(run.Trace)
            ?? throw new TrainingStepException(t, "the objective function returned null.");
        if (objective is SurrogateObjective { HasGradient: false } || !objective.Loss.requires_grad)
            throw new TrainingStepException(t,
                "nothing in the model's trace depends on a tensor that requires a gradient, so there is " +
                "nothing to train. Create parameters with requires_grad (or read them with Model.Param) and use them in a " +
                "distribution or a cost inside the model.");
        var value = objective.Value.to_type(ScalarType.Float64).item<double>();
        if (!double.IsFinite(value))
            throw new TrainingStepException(t,
                $"the objective is {value}. The parameters are left as they were after step {t - 1}; " +
                "lower the learning rate, clip the gradient (FitOptions.ClipGradNorm), or check the model's distributions for " +
                "invalid parameters (RunOptions.ValidateArguments names the site).");
        optimizer.zero_grad();
        objective.Loss.backward();
        double? norm = null;
        if (clip is { } maxNorm)
        {
            norm = nn.utils.clip_grad_norm_(trained!, maxNorm, 2.0);
            if (!double.IsFinite(norm.Value))
                throw new TrainingStepException(t,
                    $"the gradient's norm is {norm.Value}; the optimizer did not step. Look for a cost or " +
                    "log-density that is infinite at the sampled values, or lower the learning rate.");
        }
        optimizer.step();
        // with particles or enumeration, the first step found where they go; later steps skip the run that measures it
        if (options.MaxPlateNesting is null && run.Trace.PlateNesting is { } nesting)
            options = options with { MaxPlateNesting = nesting };
        return new TrainingStep(t, value) { Elapsed = clock.Elapsed, GradNorm = norm };
    }
}
