using Scg.Tracing;

namespace Scg.Estimators;

/// <summary>
/// Whether a trace credits some site across a reopened plate as a whole: a sample, cost or observation outside
/// plate P, recorded after a score-function site in P, may read all of the site's elements, so a cost in P recorded
/// after it is credited to that site summed over P, not element by element (<see cref="CostToGo"/>). Constructions
/// that assume element-wise credit (<see cref="VectorizedSurrogate"/>) hand such traces to the reverse walk.
/// </summary>
internal static class PlateMixing
{
    /// <summary>
    /// Whether the node's value can carry the values recorded before it to the code after it: samples, costs and
    /// observations can (their values reach the model's code), parameter reads cannot. So cannot a guided run's
    /// bookkeeping: the guide terms log q(z) and closed-form KLs (their values never reach the model's code), and a model
    /// latent observed at the guide's value (it carries what the guide site carries, and the guide site, earlier in the
    /// trace, mixes for itself). Without these exceptions a global latent between a guide's plate and its model's would
    /// credit every local guide site with the whole plate's costs: unbiased, but with variance growing with the plate.
    /// </summary>
    public static bool Carries(TraceNode node) => node switch
    {
        SampleNode => true,
        CostNode cost => cost.GuideTerm == GuideTerm.None,
        ObserveNode observation => !observation.ReplaysGuide,
        _ => false,
    };

    /// <summary>
    /// True when a cost or observation follows, inside plate P, a node outside P that follows a score-function site
    /// in P. One pass of bit tests; independent products are ignored (a conservative answer: it only chooses the walk).
    /// </summary>
    public static bool Occurs(Trace trace)
    {
        var sites = 0UL;
        var mixed = 0UL;
        foreach (var node in trace.Nodes)
        {
            switch (node)
            {
                case SampleNode site:
                    mixed |= sites & ~site.PlateMask;
                    if (site.IsScoreFunction) sites |= site.PlateMask;
                    break;
                case CostNode or ObserveNode:
                    if ((node.PlateMask & mixed) != 0) return true;
                    if (Carries(node)) mixed |= sites & ~node.PlateMask;
                    break;
            }
        }
        return false;
    }
}
