namespace Scg.Examples.Demo;

/// <summary>How y's gradient is estimated.</summary>
internal enum YEstimator
{
    /// <summary>Exact: y's ten values laid along a dimension of their own, each weighted by q(y | x).</summary>
    Enumerate,
    /// <summary>Score function with a leave-one-out baseline over K particles.</summary>
    Loo,
    /// <summary>Score function with a moving-average baseline (decay 0.9).</summary>
    Baseline,
}

/// <summary>The demo's command-line options.</summary>
internal sealed record DemoOptions(
    YEstimator Estimator, int Particles, int Epochs, double Minutes, int Seed, string Out, string? Data, string Cache, int BatchSize, double LearningRate, int Latent, string? Checkpoint);
