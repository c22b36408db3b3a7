using System;
using System.Linq;
using Scg.Estimators;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Objectives;

/// <summary>
/// The guide's terms of a guided trace (<see cref="Guided.Pair"/>), told apart from the model's by the tag each guide
/// cost carries, and the checks of the objectives that treat them differently.
/// </summary>
internal static class GuideTerms
{
    /// <summary>Per particle ([K]), the sum of the guide's log q terms that <paramref name="select"/> picks; zeros when none.</summary>
    public static Tensor LogQ(Trace trace, PlateFrame particles, Func<CostNode, bool> select, Tensor like) =>
        PlateReduction.PerParticle(trace, n => n is CostNode { GuideTerm: GuideTerm.LogQ or GuideTerm.LogQDetachedParameters } c && select(c) ? c.Reduced : null, particles)?.flatten()
        ?? zeros_like(like);

    /// <summary>True when <paramref name="cost"/> is the log q of a pathwise guide site.</summary>
    public static bool IsPathwise(Trace trace, CostNode cost) =>
        cost.GuideSite is { } site && trace.TryGetNode(site, out var node) && node is SampleNode { IsReparameterized: true };

    /// <summary>Refuses the closed-form KL terms of <c>analyticKl</c>, which fold log q and log p into one cost.</summary>
    public static void RequireNoAnalyticKl(Trace trace, string who)
    {
        var kl = trace.Costs.Where(c => c.GuideTerm == GuideTerm.AnalyticKl).Select(c => $"'{c.GuideSite}'").ToList();
        if (kl.Count > 0)
            throw new ArgumentException(
                $"{who}: latent(s) {string.Join(", ", kl)} carry a closed-form KL (Guided.Pair with analyticKl: true), which folds log q and " +
                "log p into one cost that this objective cannot split or reweight; run the pair with analyticKl: false.", nameof(trace));
    }

    /// <summary>DReG needs every pathwise guide site's log q with q's parameters detached (<c>stickTheLanding</c>).</summary>
    public static void RequireDetachedParameters(Trace trace, string who)
    {
        var attached = trace.Costs.Where(c => c.GuideTerm == GuideTerm.LogQ && IsPathwise(trace, c)).Select(c => $"'{c.GuideSite}'").ToList();
        if (attached.Count > 0)
            throw new ArgumentException(
                $"{who}: DReG differentiates log q only through z, but the log q of pathwise guide site(s) {string.Join(", ", attached)} " +
                "was recorded with q's parameters attached; run the pair with Guided.Pair(guide, model, stickTheLanding: true).", nameof(trace));
    }

    /// <summary>Plain wake-φ differentiates log q through q's parameters, which <c>stickTheLanding</c> detached.</summary>
    public static void RequireAttachedParameters(Trace trace, string who)
    {
        var detached = trace.Costs.Where(c => c.GuideTerm == GuideTerm.LogQDetachedParameters).Select(c => $"'{c.GuideSite}'").ToList();
        if (detached.Count > 0)
            throw new ArgumentException(
                $"{who}: wake-φ differentiates log q through q's parameters, but the log q of guide site(s) {string.Join(", ", detached)} was " +
                "recorded with them detached (Guided.Pair with stickTheLanding: true); leave stickTheLanding off, or ask for dreg: true.", nameof(trace));
    }
}
