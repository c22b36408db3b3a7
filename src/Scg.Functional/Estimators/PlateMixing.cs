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
                    mixed |= sites & ~node.PlateMask;
                    break;
            }
        }
        return false;
    }
}
