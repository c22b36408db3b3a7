using System;
using static TorchSharp.torch;

namespace Scg.Interpretation;

/// <summary>How an interpreter runs a model. All members are optional.</summary>
public sealed record RunOptions
{
    /// <summary>
    /// The random source. When null and <see cref="Seed"/> is set, a CPU generator seeded with it is made (one
    /// per run; a training loop makes one for the whole loop); when both are null, TorchSharp's default generator
    /// is used. A generator advances with every draw, so successive runs sharing it see fresh noise.
    /// </summary>
    public Generator? Generator { get; init; }

    /// <summary>A seed for a fresh CPU generator: the same seed gives the same trace, bit for bit, on CPU.</summary>
    public ulong? Seed { get; init; }

    /// <summary>The parameter store; a new empty store when null.</summary>
    public ParamStore? Params { get; init; }

    /// <summary>
    /// The number K of vectorised particles; 0 runs the model once without a particle plate. With K ≥ 1 the
    /// model runs once inside a plate named <c>particles</c> of size K at dimension −(<see cref="MaxPlateNesting"/> + 1),
    /// and the reported cost is averaged over the particles. The name <c>particles</c> is reserved for this plate.
    /// Every value drawn in the run carries the particle dimension; costs computed from such values must keep it
    /// (never <c>.sum()</c> or <c>.mean()</c> over it): a cost that lacks it counts once per particle, so a sum
    /// over K particles would be counted K times. Only a cost that is the same for every particle may omit it.
    /// </summary>
    public int Particles { get; init; }

    /// <summary>
    /// The number of batch dimensions the model uses itself (plates and other batch dimensions). Needed to place
    /// the particle dimension to their left; when null, a dry run of the model without gradients measures it.
    /// A value that is too low is reported (a plate or a site's batch shape reaching the particle dimension)
    /// with the value to set; a higher value than needed is harmless.
    /// </summary>
    public int? MaxPlateNesting { get; init; }

    /// <summary>
    /// Estimators that replace those the model chose, by site name or predicate (the last matching rule wins); none
    /// when null. A rule naming a site the run does not sample is an error.
    /// </summary>
    public EstimatorOverrides? Estimators { get; init; }

    /// <summary>
    /// A function that may fix a sample site's value from the site's name and distribution (already expanded to the
    /// site's plates, so its batch shape is the value's), or return null to let the site's estimator draw it. A fixed
    /// value is used as a replayed one: it adds its log-probability but no score-function term, and gradients flow
    /// through whatever computed it (a quadrature node μ + σ·t, say). It takes precedence over replayed values and over
    /// enumeration; the dry run that measures the plate nesting does not consult it. <c>Scg.Verification</c> integrates
    /// a model exactly with it; null (the default) leaves every site to its estimator.
    /// </summary>
    public Func<string, Distributions.Distribution, Tensor?>? SiteValues { get; init; }

    /// <summary>Check distribution parameters and observed values at every site (default true).</summary>
    public bool ValidateArguments { get; init; } = true;

    /// <summary>The options used when none are given.</summary>
    public static RunOptions Default { get; } = new();
}
