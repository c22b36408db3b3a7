using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Scg.Distributions;

namespace Scg.Interpretation;

/// <summary>
/// Estimators chosen at run time, by site name or by predicate, in place of those the model names: one model
/// value trained or measured with several estimators. Rules apply in the order they were added and the last
/// one that matches a site wins. A rule naming a site the run did not sample is an error (a misspelt name would
/// otherwise change nothing, silently); a predicate rule that matches no site is not (it may be meant for other
/// models), so check <c>trace.Sample(name).Estimator</c> when in doubt.
/// </summary>
/// <example><code>
/// var options = new RunOptions
/// {
///     Estimators = EstimatorOverrides.None
///         .For("y", SiteEstimator.ScoreFunction.WithBaseline(Baseline.LeaveOneOut))
///         .ForSites((name, d) =&gt; name.StartsWith("step"), SiteEstimator.ScoreFunction),
/// };
/// </code></example>
public sealed record EstimatorOverrides
{
    private readonly ImmutableArray<Rule> rules;

    private EstimatorOverrides(ImmutableArray<Rule> rules) => this.rules = rules;

    /// <summary>No overrides.</summary>
    public static EstimatorOverrides None { get; } = new(ImmutableArray<Rule>.Empty);

    /// <summary>The site names the rules mention, in order.</summary>
    public IEnumerable<string> Names => rules.Where(r => r.Name is not null).Select(r => r.Name!);

    /// <summary>These rules, then: the site called <paramref name="site"/> uses <paramref name="estimator"/>.</summary>
    /// <param name="site">The site's name.</param>
    /// <param name="estimator">Its estimator.</param>
    public EstimatorOverrides For(string site, SiteEstimator estimator)
    {
        ArgumentException.ThrowIfNullOrEmpty(site);
        ArgumentNullException.ThrowIfNull(estimator);
        return new(rules.Add(new Rule(site, null, estimator)));
    }

    /// <summary>
    /// These rules, then: every site for which <paramref name="predicate"/> (of the site's name and distribution)
    /// is true uses <paramref name="estimator"/>.
    /// </summary>
    /// <param name="predicate">Selects sites by name and distribution.</param>
    /// <param name="estimator">Their estimator.</param>
    public EstimatorOverrides ForSites(Func<string, Distribution, bool> predicate, SiteEstimator estimator)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        ArgumentNullException.ThrowIfNull(estimator);
        return new(rules.Add(new Rule(null, predicate, estimator)));
    }

    /// <summary>The estimator the last matching rule gives the site, or null when none matches.</summary>
    internal SiteEstimator? Find(string name, Distribution distribution)
    {
        for (var i = rules.Length - 1; i >= 0; i--)
        {
            var r = rules[i];
            if (r.Name is not null ? r.Name == name : r.Predicate!(name, distribution)) return r.Estimator;
        }
        return null;
    }

    /// <summary>Throws when a rule names a site the run did not sample.</summary>
    internal void RequireAllNamesUsed(IReadOnlySet<string> sampled)
    {
        foreach (var name in Names)
            if (!sampled.Contains(name))
                throw new ArgumentException(
                    $"RunOptions.Estimators overrides the estimator of site '{name}', but the run sampled no site of that name " +
                    $"(it sampled {(sampled.Count == 0 ? "none" : string.Join(", ", sampled.Order(StringComparer.Ordinal).Take(20).Select(s => $"'{s}'")))}).");
    }

    /// <inheritdoc />
    public override string ToString() =>
        rules.IsEmpty ? "no overrides" : string.Join("; ", rules.Select(r => $"{r.Name ?? "(predicate)"} → {r.Estimator}"));

    private sealed record Rule(string? Name, Func<string, Distribution, bool>? Predicate, SiteEstimator Estimator);
}
