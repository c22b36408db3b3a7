using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Scg.Interpretation;
using System.Globalization;
using Scg.Distributions;
using Scg.Tracing;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>An exponential moving average of the cost-to-go; see <see cref="Baseline.MovingAverage"/>.</summary>
/// <param name="Decay">The weight of the old average, in [0, 1).</param>
/// <param name="PerElement">One average per plate element instead of one per site.</param>
public sealed record MovingAverageBaseline(double Decay, bool PerElement) : Baseline
{
    internal override Tensor? Compute(BaselineContext context, SampleNode site, Tensor costToGo)
    {
        var store = context.StoreFor(site, "a moving-average baseline");
        var key = $"baseline/{site.Name}/moving-average{(PerElement ? "-per-element" : "")}";
        // a trace folds its cost-to-go into the average once: building its surrogate again (or its DiCE surrogate)
        // sees the same baseline
        var applied = Applied.GetOrCreateValue(context.Trace);
        lock (applied)
        {
            if (applied.TryGetValue((store, key), out var earlier)) return earlier;
            var baseline = Update(store, key, site, costToGo, context);
            applied[(store, key)] = baseline;
            return baseline;
        }
    }

    /// <summary>The baselines each trace has already been given, so that a second build does not update again.</summary>
    private static readonly ConditionalWeakTable<Trace, Dictionary<(ParamStore, string), Tensor?>> Applied = new();

    private Tensor? Update(ParamStore store, string key, SampleNode site, Tensor costToGo, BaselineContext context)
    {
        using var _ = no_grad();
        var particles = context.Trace.ParticlePlate;
        var current = !PerElement ? costToGo.mean()
            : particles is not null ? costToGo.mean([particles.Dim], keepdim: true)
            : costToGo;
        if (!store.TryGetState(key, out var state))
        {
            store.SetState(key, current);   // the first step has no earlier average: no baseline
            return null;
        }
        if (PerElement && !Shapes.Equal(state.shape, current.shape))
            throw new ArgumentException(
                $"Sample site '{site.Name}': its per-element moving-average baseline has shape [{Shapes.Format(state.shape)}], but the " +
                $"cost-to-go now gives [{Shapes.Format(current.shape)}]: the plates changed size. Use MovingAverage(perElement: false) " +
                "when plate sizes vary from step to step.");
        var baseline = state.clone();
        var (decay, rest) = (ScalarOf(Decay), ScalarOf(1 - Decay));
        if (current.dtype == state.dtype)
        {
            state.mul_(decay).add_(current, rest);
        }
        else
        {
            using var converted = current.to_type(state.dtype);
            state.mul_(decay).add_(converted, rest);
        }
        return baseline;
    }

    /// <summary>A TorchSharp scalar per decay value, made once: each new one is a native allocation and release.</summary>
    private static Scalar ScalarOf(double value) => Scalars.GetOrAdd(value, v => v);

    private static readonly ConcurrentDictionary<double, Scalar> Scalars = new();

    /// <inheritdoc />
    public override string ToString() =>
        $"moving average {Decay.ToString("G4", CultureInfo.InvariantCulture)}{(PerElement ? " per element" : "")}";
}
