using System;
using System.Collections.Generic;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>
/// The learning signal of score-function sites: the detached cost-to-go, or a critic's estimate in its place,
/// minus the site's baseline. Both surrogate constructions call it, so they agree.
/// </summary>
internal static class LearningSignal
{
    /// <summary>
    /// The signals of a group of like-shaped sites whose cost-to-go is stacked in <paramref name="q"/> (row k for
    /// site k, at the run's plate rank). Stackable baselines shared by the whole group take one call; otherwise
    /// each site is done on its own row.
    /// </summary>
    public static Tensor OfGroup(IReadOnlyList<SampleNode> sites, Tensor q, long[] siteShape, BaselineContext context)
    {
        Baseline? shared = context.BaselineOf(sites[0]);
        var plain = true;
        foreach (var site in sites)
        {
            var b = context.BaselineOf(site);
            if (b is not null || BaselineContext.CriticOf(site) is not null) plain = false;
            if (BaselineContext.CriticOf(site) is not null || !Equals(b, shared)) shared = null;
        }
        if (plain) return q;
        // one site on its own row: no stacking needed
        if (sites.Count == 1 && shared is not { CanStack: true }) return Of(sites[0], q.select(0, 0), context).unsqueeze(0);
        var shape = new long[siteShape.Length + 1];
        shape[0] = sites.Count;
        siteShape.CopyTo(shape, 1);
        var full = q.expand(shape);
        if (shared is { CanStack: true })
        {
            var b = shared.Compute(context, sites[0], full);
            if (b is null) return full;
            SurrogateChecks.Baseline(sites[0], b, shape, context.Validate);
            return full - b.detach();
        }
        var rows = full.unbind(0);
        for (var k = 0; k < rows.Length; k++) rows[k] = Of(sites[k], rows[k], context);
        return stack(rows);
    }

    /// <summary>The signal of one site, from its cost-to-go <paramref name="q"/> (at the run's plate rank).</summary>
    public static Tensor Of(SampleNode site, Tensor q, BaselineContext context)
    {
        var critic = BaselineContext.CriticOf(site);
        if (critic is null && context.BaselineOf(site) is null) return q;
        q = AtSiteShape(q, site);
        if (critic is not null)
        {
            var estimate = critic(site, context.Trace)
                ?? throw new InvalidOperationException($"Sample site '{site.Name}': the critic returned null.");
            SurrogateChecks.Baseline(site, estimate, CostToGo.SiteRankShape(site, q.shape), context.Validate, "critic's estimate");
            q = estimate.detach().expand(Distributions.Shapes.Broadcast(estimate.shape, q.shape));
        }
        return Checked(site, q, context) is { } b ? q - b : q;
    }

    /// <summary>
    /// The checked, detached baseline of <paramref name="site"/> for the cost-to-go <paramref name="q"/> (at the run's
    /// plate rank), or null when it has none. For constructions that use the baseline apart from the signal (DiCE).
    /// </summary>
    public static Tensor? BaselineOf(SampleNode site, Tensor q, BaselineContext context) => Checked(site, AtSiteShape(q, site), context);

    /// <summary><paramref name="q"/> broadcast to the site's reduced shape (enumeration axes of later costs kept).</summary>
    private static Tensor AtSiteShape(Tensor q, SampleNode site)
    {
        var shape = q.shape;
        var target = Distributions.Shapes.Broadcast(shape, site.ReducedShape);
        return Distributions.Shapes.Equal(shape, target) ? q : q.expand(target);
    }

    /// <summary>The site's baseline for <paramref name="q"/> (already at the site's shape), checked and detached; null for none.</summary>
    private static Tensor? Checked(SampleNode site, Tensor q, BaselineContext context)
    {
        if (context.BaselineOf(site)?.Compute(context, site, q) is not { } b) return null;
        SurrogateChecks.Baseline(site, b, CostToGo.SiteRankShape(site, q.shape), context.Validate);
        return b.requires_grad ? b.detach() : b;
    }
}
