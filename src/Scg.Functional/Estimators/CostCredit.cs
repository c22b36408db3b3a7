using System.Collections.Immutable;
using Scg.Tracing;

namespace Scg.Estimators;

/// <summary>
/// One cost (or observation, counted as a cost of −log p) that a score-function site's learning signal includes.
/// </summary>
/// <param name="Cost">The <see cref="CostNode"/> or <see cref="ObserveNode"/>.</param>
/// <param name="SummedOver">The plates the site and the cost share across which the credit is not element by
/// element: a sample, cost or observation outside the plate lies between them (it may read all of the site's
/// elements), so every element of the site is credited with the cost summed over the plate. Empty when the
/// credit is element-wise in every shared plate (or when there is none).</param>
public sealed record CostCredit(TraceNode Cost, ImmutableArray<PlateFrame> SummedOver);
