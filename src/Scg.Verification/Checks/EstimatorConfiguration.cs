using System;
using Scg.Estimators;
using Scg.Interpretation;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Verification.Checks;

/// <summary>
/// One way of estimating a model's gradient, as a value: estimator overrides for the run, surrogate options, the
/// number of particles, and (for estimators outside Scg, or deliberately broken ones) the scalar to differentiate.
/// </summary>
/// <param name="Name">How the report names it.</param>
public sealed record EstimatorConfiguration(string Name)
{
    /// <summary>Estimators that replace the model's choices in every run (none when null).</summary>
    public EstimatorOverrides? Estimators { get; init; }

    /// <summary>Options of <see cref="Surrogate.Build"/> (a fallback baseline, total cost, …); defaults when null.</summary>
    public SurrogateOptions? Surrogate { get; init; }

    /// <summary>Vectorised particles per run (0: one run without a particle plate); the estimate is their mean.</summary>
    public int Particles { get; init; }

    /// <summary>The plate nesting of the model (measured when null and needed).</summary>
    public int? MaxPlateNesting { get; init; }

    /// <summary>
    /// The scalar whose gradient is one estimate, from a run's trace; <c>Surrogate.Build(trace, Surrogate).Surrogate</c>
    /// when null. Give it for estimators built outside <see cref="Surrogate.Build"/>, such as DiCE or a hand-made surrogate.
    /// </summary>
    public Func<Trace, Tensor>? Objective { get; init; }

    /// <summary>The model's own estimators, plain surrogate, no particles.</summary>
    public static EstimatorConfiguration Default { get; } = new("default");

    /// <summary>This configuration with the estimator of <paramref name="site"/> replaced by <paramref name="estimator"/>.</summary>
    /// <param name="site">The site's name.</param>
    /// <param name="estimator">Its estimator.</param>
    public EstimatorConfiguration WithSite(string site, SiteEstimator estimator) =>
        this with { Estimators = (Estimators ?? EstimatorOverrides.None).For(site, estimator) };

    /// <summary>The run options of this configuration's runs on <paramref name="store"/> (no seed or generator yet).</summary>
    internal RunOptions RunOptions(ParamStore store) =>
        new() { Params = store, Particles = Particles, MaxPlateNesting = MaxPlateNesting, Estimators = Estimators };

    internal Tensor ObjectiveOf(Trace trace) =>
        Objective is { } f ? f(trace) : Scg.Estimators.Surrogate.Build(trace, Surrogate).Surrogate;

    /// <inheritdoc />
    public override string ToString() => Name;
}
