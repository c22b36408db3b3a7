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
    /// <remarks>
    /// <para>Replayed values are used as given, autograd graph included: gradients flow through a replayed value
    /// into whatever computed it. This is what replaying a guide's reparameterised samples into a model needs
    /// (an ELBO): the model's costs then differentiate through the guide's draws. Pass <c>value.detach()</c> to
    /// cut that path. A replayed site never adds a score-function term, whatever its estimator: its value was
    /// not drawn in this run.</para>
    /// <para>Each value must broadcast to the site's batch shape (its plates, the particle plate included)
    /// followed by its event shape, with no extra dimensions; a value with fewer leading dimensions (or size 1)
    /// is the same for every element. Values recorded with <see cref="RunOptions.Particles"/> = K carry the
    /// particle dimension, so replay them with the same K.</para>
    /// </remarks>
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

    /// <summary>
    /// Replays <paramref name="model"/> at the sample values recorded in <paramref name="trace"/> (see
    /// <see cref="Replay{T}(Model{T}, IReadOnlyDictionary{string, Tensor}, RunOptions?)"/> for what replay keeps).
    /// A trace recorded with <see cref="RunOptions.Particles"/> = K is replayed with the same K, its particle
    /// dimension where it was recorded (unless <see cref="RunOptions.MaxPlateNesting"/> is given).
    /// </summary>
    /// <typeparam name="T">The model's value type.</typeparam>
    /// <param name="model">The model to run.</param>
    /// <param name="trace">A trace whose sample sites match the model's.</param>
    /// <param name="options">Parameter store and other options; defaults when null.</param>
    public static RunResult<T> Replay<T>(Model<T> model, Trace trace, RunOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(trace);
        options ??= RunOptions.Default;
        if (trace.HasEnumeration)
            throw new ArgumentException(
                $"Replay: the trace has enumerated sites ({string.Join(", ", trace.Samples.Where(s => s.IsEnumerated).Select(s => $"'{s.Name}'"))}), " +
                "whose values are whole supports laid along enumeration dimensions, not draws: replaying them is not supported. " +
                "Replay a run in which they were sampled.", nameof(trace));
        var recordedK = trace.ParticlePlate?.Size ?? 0;
        if (recordedK != options.Particles)
            throw new ArgumentException(
                $"Replay: the trace was recorded with RunOptions.Particles = {recordedK}, but is replayed with Particles = {options.Particles}; " +
                "replay it with the same number (with another, every particle would repeat the same values or the shapes would clash).", nameof(options));
        if (options.Particles > 0 && options.MaxPlateNesting is null && trace.ParticlePlate is { } recorded)
            options = options with { MaxPlateNesting = -recorded.Dim - 1 };
        return Run(model, trace.Samples.ToDictionary(s => s.Name, s => s.Value, StringComparer.Ordinal), options);
    }

    /// <summary>
    /// Runs <paramref name="model"/> once as a generative "dream": every sample site is drawn and every observation
    /// is drawn from its distribution instead of taking the value the model gives it (which only has to be non-null),
    /// so the trace holds a joint draw (z, x) ~ p. Runs without gradients: the drawn values are data. Reweighted
    /// wake-sleep's sleep phase (<see cref="Objectives.WakeSleep.Sleep{TModel, TGuide}"/>) trains a guide on such draws.
    /// </summary>
    /// <remarks>The model's <c>Observe</c> returns the drawn value, so code after it sees the dreamed data. A guided pair
    /// (<see cref="Objectives.Guided.Pair{TGuide, TModel}"/>) cannot be dreamed (an error); dream the model alone.</remarks>
    /// <typeparam name="T">The model's value type.</typeparam>
    /// <param name="model">The generative model p(x, z).</param>
    /// <param name="options">Seed or generator, parameter store, particles (K independent dreams); defaults when null.</param>
    public static RunResult<T> Dream<T>(Model<T> model, RunOptions? options = null)
    {
        using var _ = no_grad();
        return Run(model, null, options, dream: true);
    }

    /// <summary>
    /// Runs <paramref name="model"/> once, without gradients and with a throw-away random source, so that every
    /// parameter it reads is created in the options' store (as a leaf that requires gradients). The run's trace
    /// is discarded; a seeded <see cref="RunOptions.Generator"/> is left untouched. Called by
    /// <see cref="ParamStore.Initialize{T}"/>.
    /// </summary>
    internal static void InitializeParams<T>(Model<T> model, RunOptions options)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var throwAway = new Generator(0, CPU);
        Run(model, null, options with { Generator = throwAway, Seed = null });
    }

    private static RunResult<T> Run<T>(Model<T> model, IReadOnlyDictionary<string, Tensor>? replay, RunOptions? options, bool dream = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= RunOptions.Default;
        if (options.Particles < 0)
            throw new ArgumentOutOfRangeException(nameof(options), $"RunOptions.Particles must be 0 or positive (got {options.Particles}).");
        if (options.MaxPlateNesting < 0)
            throw new ArgumentOutOfRangeException(nameof(options),
                $"RunOptions.MaxPlateNesting must be 0 or positive (got {options.MaxPlateNesting}): the number of batch dimensions the " +
                "model uses itself; leave it null to have it measured.");
        var store = options.Params ?? new ParamStore();
        var generator = options.Generator ?? (options.Seed is { } seed ? new Generator(seed, CPU) : null);
        var nesting = options.MaxPlateNesting;
        if (options.Particles > 0) nesting ??= MeasureNesting(model, store, options.ValidateArguments, options.Estimators);
        try
        {
            return RunPlaced(model, replay, options, store, generator, nesting, dream);
        }
        catch (EnumerationNeedsNestingException) when (nesting is null)
        {
            // an enumerated site needs to know where the plates end: measure, then run again
            nesting = MeasureNesting(model, store, options.ValidateArguments, options.Estimators);
            return RunPlaced(model, replay, options, store, generator, nesting, dream);
        }
    }

    /// <summary>
    /// One run with the particle dimension (if any) at −(nesting + 1) and enumeration dimensions to its left; with
    /// an unknown nesting and no particles, an enumerated site throws <see cref="EnumerationNeedsNestingException"/>.
    /// </summary>
    private static RunResult<T> RunPlaced<T>(Model<T> model, IReadOnlyDictionary<string, Tensor>? replay, RunOptions options, ParamStore store, Generator? generator, int? nesting, bool dream)
    {
        var toRun = model;
        var reserved = 0;
        if (options.Particles > 0)
        {
            reserved = -(nesting!.Value + 1);
            toRun = Model.Plate(PlateFrame.ParticlesName, options.Particles, model, reserved);
        }
        var ctx = new RunContext(generator, store, replay, options.ValidateArguments)
        {
            ReservedDim = reserved, NestingMeasured = options.Particles > 0 && options.MaxPlateNesting is null,
            Overrides = options.Estimators, StoreGiven = options.Params is not null,
            EnumBase = reserved != 0 ? reserved - 1 : nesting is { } n ? -(n + 1) : 0, PlateNesting = nesting,
            DrawObservations = dream, SiteValues = options.SiteValues,
        };
        T value;
        try
        {
            value = toRun.Run(ctx);
        }
        catch (System.Runtime.InteropServices.ExternalException e) when (ctx.EnumerationSummary is { } enumerated)
        {
            var native = e.Message.Split('\n')[0];
            throw new InvalidOperationException(
                $"The model failed in a tensor operation after enumerating {enumerated}. An enumerated value is the site's whole " +
                "support laid along a dimension to the left of the plates and the particle dimension, and model code must broadcast " +
                "over it: combine tensors by broadcasting (expand both sides to a common shape before torch.cat, index by " +
                $"broadcasting, keep the dimension in costs) rather than by position from the left. The error: {native}", e);
        }
        catch (System.Runtime.InteropServices.ExternalException e)
        {
            throw NativeFailure(e, ctx, options.Particles > 0
                ? $" With RunOptions.Particles = {options.Particles}, every value drawn at a site carries the particle dimension at dim " +
                  $"{reserved} (left of the model's own {nesting} batch dimension(s)): combine tensors by broadcasting from the right, " +
                  "and index or concatenate along negative dimensions."
                : "");
        }
        return new RunResult<T>(value, ctx.Freeze());
    }

    /// <summary>
    /// The batch rank the model uses by itself: a dry run without gradients, with fresh draws at every site
    /// (replayed values may carry a particle dimension, which must not count) and the same argument checks as
    /// the real run (so that invalid parameters are reported with the site's name, not by a native sampler).
    /// </summary>
    private static int MeasureNesting<T>(Model<T> model, ParamStore store, bool validate, EstimatorOverrides? overrides)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var dryGenerator = new Generator(0, CPU);
        var ctx = new RunContext(dryGenerator, store, replay: null, validate) { Overrides = overrides, DryRun = true };
        try
        {
            model.Run(ctx);
        }
        catch (System.Runtime.InteropServices.ExternalException e)
        {
            throw NativeFailure(e, ctx, " (This was the run without particles that measures the model's batch rank for RunOptions.Particles.)");
        }
        return ctx.MaxBatchRank;
    }

    /// <summary>
    /// A native error in the model's own code, with where in the run it happened: libtorch's message names no node,
    /// and its native stack says nothing about the model. The original is the inner exception.
    /// </summary>
    private static InvalidOperationException NativeFailure(System.Runtime.InteropServices.ExternalException e, RunContext ctx, string advice)
    {
        var native = e.Message.Split('\n')[0].TrimEnd('.');
        var where = ctx.LastRecorded is { } last
            ? $"after recording {last.Describe()} (node {last.Index}; the failing code runs between it and the next node)"
            : "before recording any node";
        return new InvalidOperationException($"The model failed in a tensor operation {where}: {native}.{advice}", e);
    }
}
