namespace Scg.Verification.Checks;

/// <summary>
/// How much of a configuration's gradient variance one sample site accounts for: the variance (summed over parameter
/// elements) with the site's estimator swapped for enumeration or a given lower-variance estimator, against the
/// configuration's own.
/// </summary>
/// <param name="Site">The sample site.</param>
/// <param name="SwappedFor">The estimator put in its place.</param>
/// <param name="Variance">The total variance with the swap (NaN when the swap failed).</param>
/// <param name="BaselineVariance">The configuration's total variance.</param>
/// <param name="Share">1 − Variance / BaselineVariance: the part of the variance the swap removes (NaN when it failed).</param>
/// <param name="Note">Why the swap failed, or null.</param>
public sealed record SiteDiagnostic(string Site, string SwappedFor, double Variance, double BaselineVariance, double Share, string? Note);
