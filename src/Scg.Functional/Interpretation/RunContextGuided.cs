using System;
using System.Collections.Generic;
using System.Linq;
using Scg.Distributions;
using Scg.Estimators;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Interpretation;

/// <summary>Guided runs (<see cref="Objectives.Guided"/>): the guide's values, and the model's latents that take them.</summary>
internal sealed partial class RunContext
{
    private Dictionary<string, Tensor>? guideValues;
    private Dictionary<string, (Distribution Dist, Tensor LogQ, GuideTerm Term)>? guideSites;
    private HashSet<string>? guideUsed;
    private bool inGuide;
    private bool stickTheLanding;

    /// <summary>
    /// The guide's log q(z) cost: the site's reduced log-probability, or with sticking the landing, log q at z
    /// with q's parameters detached (for pathwise sites), so that its gradient flows only through z.
    /// </summary>
    private (Tensor LogQ, GuideTerm Term) GuideLogQ(string name, Distribution dist, Tensor value, SiteEstimator resolved, Tensor reduced, long[] lpShape)
    {
        if (!stickTheLanding || resolved is not PathwiseEstimator) return (reduced, GuideTerm.LogQ);
        var detached = dist.WithDetachedParameters() ?? throw new NotSupportedException(
            $"Guided.Pair(stickTheLanding): guide site '{name}' has a {dist.Name}, whose parameters Scg cannot detach; use Normal " +
            "(or Independent Normal) guides, or leave stickTheLanding off.");
        return (PlateReduction.KeepPlates(detached.LogProb(value), lpShape, active, out _, EnumRank, enumDims), GuideTerm.LogQDetachedParameters);
    }

    /// <summary>Starts the guide of a guided run (<see cref="Objectives.Guided"/>): its sites also record log q.</summary>
    public bool BeginGuide(bool analyticKl, bool stickTheLanding = false)
    {
        this.stickTheLanding = stickTheLanding;
        if (DrawObservations)
            throw new ArgumentException("Interpreter.Dream: a guided pair (Guided.Pair) cannot be dreamed; dream the model alone.");
        if (guideValues is not null) throw new ArgumentException("Guided.Pair: guided runs do not nest (a guide or model contains another pair).");
        (guideValues, inGuide) = (new Dictionary<string, Tensor>(StringComparer.Ordinal), true);
        guideSites = analyticKl ? new Dictionary<string, (Distribution, Tensor, GuideTerm)>(StringComparer.Ordinal) : null;
        return true;
    }

    /// <summary>Ends the guide: the model's sample sites now take the guide's values.</summary>
    public bool EndGuide()
    {
        (inGuide, guideUsed) = (false, new HashSet<string>(StringComparer.Ordinal));
        return true;
    }

    /// <summary>Ends the model: every guide site must have been a latent of the model.</summary>
    public bool EndModel()
    {
        var unused = guideValues!.Keys.Where(k => !guideUsed!.Contains(k)).Select(k => $"'{k}'").ToList();
        if (unused.Count > 0)
            throw new ArgumentException(
                $"Guided.Pair: the guide samples {string.Join(", ", unused)}, which the model does not sample; every guide site must be " +
                "a latent of the model, under the same name.");
        (guideValues, guideUsed, guideSites) = (null, null, null);
        return true;
    }

    /// <summary>A model's latent in a guided run: an observation of the guide's value.</summary>
    private Tensor GuidedLatent(string name, Distribution dist)
    {
        if (!guideValues!.TryGetValue(name, out var value))
            throw new ArgumentException(
                $"Guided.Pair: the model samples latent '{name}', which the guide does not sample; every latent of the model needs a " +
                $"guide site of the same name.{ScopedNames.Hint(name, guideValues.Keys.Where(k => !guideUsed!.Contains(k)))}");
        guideUsed!.Add(name);
        if (guideSites is not null && guideSites.TryGetValue(name, out var q))
        {
            if (KullbackLeibler.Between(q.Dist, ExpandToPlates(name, dist, out _)) is { } kl)
            {
                // KL(q ‖ p) in closed form replaces log q(z) − log p(z)
                Cost(name + "@kl", PlateReduction.KeepPlates(kl, kl.shape, active, out _, EnumRank, enumDims), GuideTerm.AnalyticKl, name);
                return value;
            }
            Cost(name + "@q", q.LogQ, q.Term, name);   // no closed form: the sampled terms, as without analyticKl
        }
        return Observe(name + "@p", dist, value, replaysGuide: true);
    }
}
