using System;
using Scg.Distributions;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>Checks of what goes into a surrogate, with messages that name the node at fault.</summary>
internal static class SurrogateChecks
{
    /// <summary>
    /// A baseline must not enlarge its site's log-probability (a baseline of shape [5] on a scalar site would
    /// multiply the site's score term by 5) and, under validation, must be finite.
    /// </summary>
    public static void Baseline(SampleNode site, Tensor baseline, long[] siteShape, bool validate, string what = "baseline")
    {
        var shape = baseline.shape;
        var fits = true;
        for (var i = 1; i <= shape.Length && fits; i++)
            fits = shape[^i] == 1 || (i <= siteShape.Length && shape[^i] == siteShape[^i]);
        if (!fits)
            throw new ArgumentException(
                $"Sample site '{site.Name}': the {what} has shape [{Shapes.Format(shape)}], which does not broadcast to " +
                $"the site's cost-to-go shape [{Shapes.Format(siteShape)}] without enlarging it; give one value per plate element or a scalar.");
        if (validate && !baseline.isfinite().all().item<bool>())
            throw new ArgumentException($"Sample site '{site.Name}': the {what} is not finite (NaN or infinite).");
    }

    /// <summary>
    /// Throws when the surrogate is not finite, naming the first cost, observation or score-function site whose
    /// contribution is not finite. One native check when all is well.
    /// </summary>
    public static void RequireFinite(Trace trace, Tensor surrogate)
    {
        if (surrogate.isfinite().item<bool>()) return;
        foreach (var node in trace.Nodes)
        {
            var (t, what) = node switch
            {
                CostNode c => (c.Reduced, $"Cost '{c.Name}' is"),
                ObserveNode o => (o.Reduced, $"Observe site '{o.Name}': the log-probability of the observed value is"),
                SampleNode { IsScoreFunction: true } s => (s.Reduced, $"Sample site '{s.Name}': the log-probability of the drawn value is"),
                _ => (null, ""),
            };
            if (t is not null && !t.isfinite().all().item<bool>())
                throw new ArgumentException($"{what} not finite (NaN or infinite), so the surrogate is not; the gradient would be meaningless.");
        }
        throw new ArgumentException("The surrogate is not finite (NaN or infinite), though every cost and log-probability is: a cost-to-go overflowed.");
    }
}
