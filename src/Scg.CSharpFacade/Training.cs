using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Scg.Estimators;
using Scg.Interpretation;
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
        return Loop(modelForStep, optimizer, steps, options ?? RunOptions.Default, surrogate, progress, cancellation);
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
        if (options?.Params is { } other && !ReferenceEquals(other, store))
            throw new ArgumentException("Training.Train: options.Params is another store than 'store'; leave it null or pass the same store.", nameof(options));
        options = (options ?? RunOptions.Default) with { Params = store };
        store.Initialize(modelForStep(0), options);
        if (surrogate?.Baseline is LearnedBaseline learned)
            store.GetOrAddModule(learned.Name, learned.Module);   // registered before the optimizer takes the store's parameters
        var parameters = store.Parameters();
        if (!parameters.Any())
            throw new InvalidOperationException(
                "Training.Train: the model created no parameter in the store (through Model.Param, Model.Module or a learned " +
                "baseline), so the optimizer would train nothing. Read trainable tensors with Model.Param, or build the optimizer over " +
                "your own tensors and use the overload that takes it.");
        var optimizer = makeOptimizer(parameters)
            ?? throw new InvalidOperationException("Training.Train: makeOptimizer returned null instead of an optimizer.");
        return Loop(modelForStep, optimizer, steps, options, surrogate, progress, cancellation);
    }

    private static List<double> Loop<T>(
        Func<int, Model<T>> modelForStep, optim.Optimizer optimizer, int steps, RunOptions options,
        SurrogateOptions? surrogate, IProgress<TrainingStep>? progress, CancellationToken cancellation)
    {
        // one generator for the whole loop: a generator made from the seed at every step would redraw the same noise
        using var seeded = options is { Generator: null, Seed: { } seed } ? new Generator(seed, CPU) : null;
        if (seeded is not null) options = options with { Generator = seeded };
        var costs = new List<double>(steps);
        for (var t = 0; t < steps; t++)
        {
            cancellation.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var run = Interpreter.Sample(modelForStep(t), options);
            var objective = Surrogate.Build(run.Trace, surrogate);
            if (!objective.HasGradient)
                throw new InvalidOperationException(
                    $"Training step {t}: nothing in the model's trace depends on a tensor that requires a gradient, so there is " +
                    "nothing to train. Create parameters with requires_grad (or read them with Model.Param) and use them in a " +
                    "distribution or a cost inside the model.");
            optimizer.zero_grad();
            objective.Loss.backward();   // the surrogate, plus the least-squares loss of learned baselines
            optimizer.step();
            var cost = objective.Cost.to_type(ScalarType.Float64).item<double>();
            costs.Add(cost);
            progress?.Report(new TrainingStep(t, cost));
            // with particles or enumeration, the first step found where they go; later steps skip the run that measures it
            if (options.MaxPlateNesting is null && run.Trace.PlateNesting is { } nesting)
                options = options with { MaxPlateNesting = nesting };
        }
        return costs;
    }
}
