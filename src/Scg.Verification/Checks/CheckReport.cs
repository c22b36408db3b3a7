using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Text;

namespace Scg.Verification.Checks;

/// <summary>
/// The outcome of <see cref="EstimatorCheck"/>: per configuration and parameter element the reference value, mean,
/// standard error, z-score, verdict, variance and signal-to-noise ratio, and per site its share of the variance.
/// <see cref="ToString"/> prints it as a table.
/// </summary>
/// <param name="Reference">What the estimates were compared with: the exact gradient, or (two-sample) a reference configuration, and why.</param>
/// <param name="IsExact">True when the reference is the exact gradient; false in a two-sample comparison.</param>
/// <param name="Samples">Estimates per configuration.</param>
/// <param name="Seed">The seed of the first configuration's generator (the others use the next seeds).</param>
/// <param name="FalseAlarmRate">The chance that a correct estimator fails anywhere in this report.</param>
/// <param name="Bound">The per-element bound on |z| (Bonferroni over every z-test in the report, Student's t with
/// <paramref name="Samples"/> − 1 degrees of freedom, since each standard error is estimated from the same estimates).</param>
/// <param name="Configurations">One check per configuration tested (in a two-sample comparison, every one but the reference).</param>
public sealed record CheckReport(string Reference, bool IsExact, int Samples, ulong Seed, double FalseAlarmRate, double Bound, ImmutableArray<ConfigurationCheck> Configurations)
{
    /// <summary>True when every element of every configuration passed.</summary>
    public bool Passed => Configurations.All(c => c.Passed);

    /// <summary>The check of the configuration called <paramref name="name"/>.</summary>
    /// <param name="name">The configuration's name.</param>
    /// <exception cref="KeyNotFoundException">No configuration of that name is in the report.</exception>
    public ConfigurationCheck this[string name] =>
        Configurations.FirstOrDefault(c => c.Configuration == name)
        ?? throw new KeyNotFoundException(
            $"The report has no configuration '{name}' (it has {string.Join(", ", Configurations.Select(c => $"'{c.Configuration}'"))}" +
            (IsExact ? ")." : "; in a two-sample comparison the reference configuration has no row).")); 

    /// <inheritdoc />
    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        var tests = Configurations.Sum(x => x.Parameters.Length);
        var sb = new StringBuilder();
        sb.AppendLine(c, $"Estimator check: {Samples} estimates per configuration, seed {Seed}.");
        sb.AppendLine(c, $"Reference: {Reference}.");
        sb.AppendLine(c, $"False-alarm rate {FalseAlarmRate:G3} over {tests} z-test(s) (Bonferroni; Student's t with {Samples - 1} degrees of freedom): " +
                         $"an element fails when |z| > {Bound:F2}.");
        var referenceHeader = IsExact ? "exact" : "reference";
        foreach (var conf in Configurations)
        {
            sb.AppendLine();
            sb.AppendLine(c, $"Configuration '{conf.Configuration}': {(conf.Passed ? "PASSED" : "FAILED")} (max |z| = {conf.MaxAbsZ:F2}).");
            var width = System.Math.Max(9, conf.Parameters.Select(p => p.Label.Length).DefaultIfEmpty(0).Max());
            sb.AppendLine(c, $"  {"parameter".PadRight(width)} {referenceHeader,12} {"mean",12} {"std error",11} {"z",8}  {"verdict",-7} {"variance",11} {"SNR",8}");
            foreach (var p in conf.Parameters)
                sb.AppendLine(c, $"  {p.Label.PadRight(width)} {p.Reference,12:G5} {p.Mean,12:G5} {p.StandardError,11:G4} {p.Z,8:F2}  {(p.Passed ? "ok" : "FAIL"),-7} {p.Variance,11:G4} {p.SignalToNoise,8:G3}");
            if (conf.Sites.IsEmpty) continue;
            sb.AppendLine(c, $"  Site variance shares (total variance {conf.TotalVariance:G4}; the site's estimator swapped, the rest unchanged):");
            var siteWidth = System.Math.Max(4, conf.Sites.Max(s => s.Site.Length));
            sb.AppendLine(c, $"  {"site".PadRight(siteWidth)} {"swapped for",-14} {"variance",11} {"share",8}");
            foreach (var s in conf.Sites)
                sb.AppendLine(s.Note is null
                    ? string.Create(c, $"  {s.Site.PadRight(siteWidth)} {s.SwappedFor,-14} {s.Variance,11:G4} {s.Share,8:P1}")
                    : string.Create(c, $"  {s.Site.PadRight(siteWidth)} {s.SwappedFor,-14} {"n/a",11} {"",8} {s.Note}"));
        }
        return sb.ToString();
    }
}
