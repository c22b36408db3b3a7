using System;
using Scg.Estimators;
using Scg.Tracing;

namespace Scg.Objectives;

/// <summary>
/// The evidence lower bound of a guided run (<see cref="Guided.Pair"/>): ELBO = E_q[log p(x, z) − log q(z)], the
/// negative of the run's total cost, estimated from its draws (averaged over particles), with the surrogate of
/// <see cref="Surrogate.Build"/> to differentiate: pathwise through reparameterised guide sites, score-function terms
/// credited with the costs downstream of them elsewhere, enumerated sites summed exactly. Ask
/// <see cref="Guided.Pair"/> for <c>analyticKl</c> to use closed-form KL terms where both sides have one.
/// </summary>
public static class Elbo
{
    /// <summary>Builds the ELBO estimate and its surrogate from a trace.</summary>
    /// <param name="trace">A run, normally of <see cref="Guided.Pair"/>; any trace works (its ELBO is then the
    /// negative total cost).</param>
    /// <param name="options">Surrogate options (baseline, checks); null: defaults.</param>
    public static ElboObjective Build(Trace trace, SurrogateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(trace);
        return new ElboObjective(Surrogate.Build(trace, options));
    }
}
