using System.Collections.Generic;
using static TorchSharp.torch;

namespace Scg.Verification.Checks;

/// <summary>Optional settings of <see cref="EstimatorCheck"/>.</summary>
public sealed record CheckOptions
{
    /// <summary>
    /// The named leaves to differentiate with respect to (tensors that require gradients, such as ones a model closes
    /// over); the store's named parameters when null.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, Tensor>>? Parameters { get; init; }

    /// <summary>
    /// Exact gradient values known in closed form, one per parameter element in order; when null, <see cref="Exact"/>
    /// computes them (and when the model is too large for it, the configurations are compared with each other).
    /// </summary>
    public IReadOnlyList<double>? ExactGradient { get; init; }

    /// <summary>Quadrature orders and limits of the exact computation; defaults when null.</summary>
    public ExactOptions? Exact { get; init; }

    /// <summary>
    /// Measure each score-function site's share of the gradient variance (default true): N more estimates per site with
    /// its estimator swapped for <see cref="DiagnosticEstimator"/>. Skipped for a configuration with its own
    /// <see cref="EstimatorConfiguration.Objective"/>, which need not follow the run's estimators.
    /// </summary>
    public bool SiteDiagnostics { get; init; } = true;

    /// <summary>
    /// The estimator swapped in for the site diagnostics; when null, <see cref="SiteEstimator.Pathwise"/> for a site whose
    /// distribution is reparameterisable and <see cref="SiteEstimator.Enumerate"/> for the others.
    /// </summary>
    public SiteEstimator? DiagnosticEstimator { get; init; }

    /// <summary>The defaults.</summary>
    public static CheckOptions Default { get; } = new();
}
