using Scg.Distributions;
using static TorchSharp.torch;

namespace Scg.Tracing;

/// <summary>A stochastic node: a value drawn (or replayed) from a distribution.</summary>
public sealed record SampleNode : TraceNode
{
    /// <summary>The distribution, expanded to the enclosing plates.</summary>
    public required Distribution Distribution { get; init; }

    /// <summary>The value of the site.</summary>
    public required Tensor Value { get; init; }

    /// <summary>The log-probability of <see cref="Value"/>, shaped like the distribution's batch shape.</summary>
    public required Tensor LogProb { get; init; }

    /// <summary>How gradients pass this site, resolved: a <see cref="PathwiseEstimator"/> or a
    /// <see cref="ScoreFunctionEstimator"/> (never <see cref="AutoEstimator"/>).</summary>
    public required SiteEstimator Estimator { get; init; }

    /// <summary>
    /// For an enumerated site (<see cref="SiteEstimator.Enumerate"/>), the dimension (negative, counted from the
    /// right) along which its value lays out its support; 0 otherwise.
    /// </summary>
    public int EnumeratedDim { get; init; }

    /// <summary>True when the site's value is its whole support, weighted exactly by the surrogate.</summary>
    public bool IsEnumerated => EnumeratedDim != 0;

    /// <summary>True when the value was supplied by a replay rather than drawn in this run.</summary>
    public required bool IsReplayed { get; init; }

    /// <summary>True when the value is a differentiable function of the parameters (a pathwise site).</summary>
    public bool IsReparameterized => Estimator is PathwiseEstimator;

    /// <summary>True when the site contributes a score-function term to the surrogate.</summary>
    public bool IsScoreFunction => Estimator is ScoreFunctionEstimator && !IsReplayed;

    /// <inheritdoc />
    public override string Describe() =>
        $"sample {Name} ~ {Distribution.Name} value {ShapeOf(Value)} ({Estimator}{(IsReplayed ? ", replayed" : "")})";
}
