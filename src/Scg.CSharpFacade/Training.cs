using System;
using System.Collections.Generic;
using System.Threading;
using Scg.Estimators;
using Scg.Interpretation;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.Linq;

/// <summary>
/// A plain stochastic-gradient loop: each step runs the step's model, builds its surrogate, back-propagates and
/// lets the optimizer step, inside one TorchSharp dispose scope so that long runs stay flat in memory.
/// </summary>
public static class Training
{
    /// <summary>
    /// Trains for <paramref name="steps"/> steps and returns the cost of every step.
    /// </summary>
    /// <typeparam name="T">The model's value type.</typeparam>
    /// <param name="modelForStep">Builds the model of step t (for example on the t-th minibatch).</param>
    /// <param name="optimizer">A TorchSharp optimizer over the parameters to train (it is zeroed every step).</param>
    /// <param name="steps">The number of steps.</param>
    /// <param name="options">Run options for every step (seeded generator, parameter store, particles).</param>
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
        var costs = new List<double>(steps);
        for (var t = 0; t < steps; t++)
        {
            cancellation.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var run = Interpreter.Sample(modelForStep(t), options);
            var objective = Surrogate.Build(run.Trace, surrogate);
            optimizer.zero_grad();
            objective.Surrogate.backward();
            optimizer.step();
            var cost = objective.Cost.to_type(ScalarType.Float64).item<double>();
            costs.Add(cost);
            progress?.Report(new TrainingStep(t, cost));
        }
        return costs;
    }
}
