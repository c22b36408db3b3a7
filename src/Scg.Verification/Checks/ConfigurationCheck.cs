using System.Collections.Immutable;
using System.Linq;

namespace Scg.Verification.Checks;

/// <summary>The checks of one configuration: one row per parameter element, and the per-site diagnostics.</summary>
/// <param name="Configuration">The configuration's name.</param>
/// <param name="Parameters">One check per parameter element.</param>
/// <param name="Sites">Per-site variance shares (empty when not asked for).</param>
public sealed record ConfigurationCheck(string Configuration, ImmutableArray<ParameterCheck> Parameters, ImmutableArray<SiteDiagnostic> Sites)
{
    /// <summary>True when every element passed.</summary>
    public bool Passed => Parameters.All(p => p.Passed);

    /// <summary>The largest |z| over the elements.</summary>
    public double MaxAbsZ => Parameters.Length == 0 ? 0 : Parameters.Max(p => System.Math.Abs(p.Z));

    /// <summary>The estimates' total variance (summed over elements).</summary>
    public double TotalVariance => Parameters.Sum(p => p.Variance);
}
