using System;
using System.Collections.Generic;
using System.Linq;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Interpretation;

/// <summary>Runs models: draws or replays their sites and records their traces.</summary>
public static class Interpreter
{
    /// <summary>
    /// Runs <paramref name="model"/> once, drawing every sample site (pathwise sites with reparameterised
    /// draws), and returns its value and trace. With <see cref="RunOptions.Particles"/> = K the run is vectorised
    /// over K particles in one pass.
    /// </summary>
    /// <typeparam name="T">The model's value type.</typeparam>
    /// <param name="model">The model to run.</param>
    /// <param name="options">Seed or generator, parameter store, particles; defaults when null.</param>
    public static RunResult<T> Sample<T>(Model<T> model, RunOptions? options = null) => Run(model, null, options);

    /// <summary>
    /// Runs <paramref name="model"/> with every sample site fixed to the value given under its name (scoring
    /// the model at those values). Replayed sites contribute their log-probabilities but no score-function term.
    /// </summary>
    /// <typeparam name="T">The model's value type.</typeparam>
    /// <param name="model">The model to run.</param>
    /// <param name="values">One value per sample site of the model, by site name.</param>
    /// <param name="options">Parameter store and other options; defaults when null.</param>
    /// <exception cref="ArgumentException">A sample site has no value, or a value names no sample site.</exception>
    public static RunResult<T> Replay<T>(Model<T> model, IReadOnlyDictionary<string, Tensor> values, RunOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        return Run(model, values, options);
    }

    /// <summary>Replays <paramref name="model"/> at the sample values recorded in <paramref name="trace"/>.</summary>
    /// <typeparam name="T">The model's value type.</typeparam>
    /// <param name="model">The model to run.</param>
    /// <param name="trace">A trace whose sample sites match the model's.</param>
    /// <param name="options">Parameter store and other options; defaults when null.</param>
    public static RunResult<T> Replay<T>(Model<T> model, Trace trace, RunOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(trace);
        return Run(model, trace.Samples.ToDictionary(s => s.Name, s => s.Value, StringComparer.Ordinal), options);
    }

    private static RunResult<T> Run<T>(Model<T> model, IReadOnlyDictionary<string, Tensor>? replay, RunOptions? options)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= RunOptions.Default;
        if (options.Particles < 0)
            throw new ArgumentOutOfRangeException(nameof(options), $"RunOptions.Particles must be 0 or positive (got {options.Particles}).");
        var store = options.Params ?? new ParamStore();
        var generator = options.Generator ?? (options.Seed is { } seed ? new Generator(seed, CPU) : null);
        var toRun = model;
        var reserved = 0;
        if (options.Particles > 0)
        {
            var nesting = options.MaxPlateNesting ?? MeasureNesting(model, store, replay);
            reserved = -(nesting + 1);
            toRun = Model.Plate(PlateFrame.ParticlesName, options.Particles, model, reserved);
        }
        var ctx = new RunContext(generator, store, replay, options.ValidateArguments) { ReservedDim = reserved };
        var value = toRun.Run(ctx);
        return new RunResult<T>(value, ctx.Freeze());
    }

    private static int MeasureNesting<T>(Model<T> model, ParamStore store, IReadOnlyDictionary<string, Tensor>? replay)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var dryGenerator = new Generator(0, CPU);
        var ctx = new RunContext(dryGenerator, store, replay, validate: false);
        model.Run(ctx);
        return ctx.MaxBatchRank;
    }
}
