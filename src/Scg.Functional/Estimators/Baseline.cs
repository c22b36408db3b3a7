using System;
using System.Collections.Generic;
using Scg.Tracing;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>
/// A baseline for a score-function site: a value subtracted from the site's learning signal (its cost-to-go) in its
/// score term. Every baseline here is a function of the site's non-descendants only (never of the site's value or of
/// what follows from it), so the estimate stays unbiased while its variance usually drops. Baselines are values:
/// state that must persist between steps (moving averages, learned modules) lives in the run's
/// <see cref="Interpretation.ParamStore"/>, saved and restored with the parameters.
/// </summary>
/// <remarks>Attach one to a site with <c>SiteEstimator.ScoreFunction.WithBaseline(…)</c> (in the model, or at run
/// time through <see cref="Interpretation.RunOptions.Estimators"/>), or to every score-function site without one
/// through <see cref="SurrogateOptions.Baseline"/>.</remarks>
public abstract record Baseline
{
    private protected Baseline()
    {
    }

    /// <summary>The same value for every step and element.</summary>
    /// <param name="value">The baseline.</param>
    public static ConstantBaseline Constant(double value) =>
        double.IsFinite(value) ? new(value) : throw new ArgumentOutOfRangeException(nameof(value), $"A constant baseline must be finite (got {value}).");

    /// <summary>
    /// An exponential moving average of the site's cost-to-go over earlier steps: b ← decay · b + (1 − decay) · mean
    /// cost-to-go, updated after the step's baseline is used (the first step has none). One scalar per site, or
    /// with <paramref name="perElement"/> one per element of the site's plates (averaged over particles). Its
    /// state lives in the run's parameter store, so the run needs <see cref="Interpretation.RunOptions.Params"/>.
    /// </summary>
    /// <param name="decay">The weight of the old average, in [0, 1).</param>
    /// <param name="perElement">Keep one average per plate element instead of one per site (the plates' sizes must
    /// then stay the same from step to step).</param>
    public static MovingAverageBaseline MovingAverage(double decay = 0.9, bool perElement = false) =>
        decay is >= 0 and < 1 ? new(decay, perElement) : throw new ArgumentOutOfRangeException(nameof(decay), $"A moving average's decay must lie in [0, 1) (got {decay}).");

    /// <summary>
    /// Leave-one-out across the K vectorised particles of the run (<see cref="Interpretation.RunOptions.Particles"/>,
    /// K ≥ 2): particle k's baseline is the mean cost-to-go of the other K − 1 particles, which are independent of it.
    /// </summary>
    public static LeaveOneOutBaseline LeaveOneOut { get; } = new();

    /// <summary>
    /// A learned baseline: <paramref name="module"/> maps features of the values named by <paramref name="inputs"/>
    /// (upstream sample sites or observations; data can come in through <paramref name="features"/>' closure) to a
    /// baseline, and is trained by least squares on the detached cost-to-go. Its loss is returned apart from the
    /// surrogate (<see cref="SurrogateObjective.BaselineLoss"/>), so no gradient passes between the module and the
    /// model's parameters. The module is registered in the run's parameter store under <paramref name="name"/>, so
    /// an optimizer over the store's parameters trains it. The name is not prefixed by <see cref="Model.Scope{T}"/>: one
    /// baseline value holds one module, so a scoped sub-model used twice shares it (fitted to both sites' costs).
    /// </summary>
    /// <param name="name">The module's name in the parameter store.</param>
    /// <param name="module">Maps the features to the baseline; an output whose last dimension has size 1 loses it.</param>
    /// <param name="inputs">The sites whose (detached) values the baseline reads; none may be the site itself or
    /// downstream of it. For a site inside <see cref="Model.Scope{T}"/> a name is looked up in the site's scopes first
    /// (innermost first), then as a full name, so a sub-model names its own sites as it wrote them.</param>
    /// <param name="features">Builds the module's input from the named values, in order; when null, one column per
    /// input (its event dimensions flattened) after the inputs' batch dimensions, broadcast together, in the type of
    /// the module's parameters: n scalar sites in a plate of B give [B, n], for <c>nn.Linear(n, 1)</c>.</param>
    public static LearnedBaseline Learned(string name, nn.Module<Tensor, Tensor> module, IReadOnlyList<string> inputs, Func<IReadOnlyList<Tensor>, Tensor>? features = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0 && features is null)
            throw new ArgumentException($"Learned baseline '{name}': name at least one input site, or give a features function (for data the module reads).", nameof(inputs));
        return new(name, module, [.. inputs], features);
    }

    /// <summary>
    /// A baseline computed by <paramref name="compute"/> from the site and its detached cost-to-go (shaped by the
    /// site's plates; given so that baselines across plate elements or particles can be formed). Returning null
    /// means no baseline. The function must not use the site's own value or anything downstream of it, nor the
    /// element of the cost-to-go it is the baseline for: Scg cannot check this.
    /// </summary>
    /// <param name="compute">The baseline function.</param>
    public static CustomBaseline Custom(Func<SampleNode, Tensor, Tensor?> compute)
    {
        ArgumentNullException.ThrowIfNull(compute);
        return new(compute);
    }

    /// <summary>
    /// The baseline of <paramref name="site"/>, or null for none. <paramref name="costToGo"/> is detached, at the
    /// run's plate rank and expanded to the site's reduced shape (with a leading stacking axis when
    /// <see cref="CanStack"/>). The result may have the run's or the site's plate rank.
    /// </summary>
    internal abstract Tensor? Compute(BaselineContext context, SampleNode site, Tensor costToGo);

    /// <summary>True when <see cref="Compute"/> accepts the cost-to-go of several like-shaped sites stacked on a new
    /// leading axis (and gives the same result as one call per site).</summary>
    internal virtual bool CanStack => false;
}
