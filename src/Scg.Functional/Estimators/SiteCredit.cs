using System.Collections.Immutable;
using Scg.Tracing;

namespace Scg.Estimators;

/// <summary>The costs whose values reach one score-function site's term log p(x) · ⊥(Q − b) in the surrogate.</summary>
/// <param name="Site">The score-function site.</param>
/// <param name="Costs">The costs and observations in its cost-to-go Q, in program order.</param>
public sealed record SiteCredit(SampleNode Site, ImmutableArray<CostCredit> Costs);
