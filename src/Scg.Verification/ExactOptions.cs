namespace Scg.Verification;

/// <summary>How <see cref="Exact"/> integrates a model: quadrature orders and the limits that keep it tractable.</summary>
public sealed record ExactOptions
{
    /// <summary>Gauss–Hermite nodes per element of a Normal site (default 20: exact for polynomials of degree ≤ 39).</summary>
    public int HermiteOrder { get; init; } = 20;

    /// <summary>Gauss–Legendre nodes per element of a Uniform or Beta site (default 20).</summary>
    public int LegendreOrder { get; init; } = 20;

    /// <summary>
    /// The most continuous dimensions in one run (default 3): every element of a continuous site (each plate element,
    /// each event element) is one dimension, and the nodes multiply across dimensions.
    /// </summary>
    public int MaxContinuousDimensions { get; init; } = 3;

    /// <summary>
    /// The most combinations (one run of the model each: every joint value of the discrete elements times every joint
    /// quadrature node of the continuous ones; default 20,000). A run of a small model takes a few milliseconds, so the
    /// limit is a minute or two; three Normal dimensions at the default order are 8,000 runs. Lower
    /// <see cref="HermiteOrder"/> before raising this.
    /// </summary>
    public long MaxCombinations { get; init; } = 20_000;

    /// <summary>
    /// Told the number of runs made so far, every <see cref="ProgressEvery"/> runs and once at the end (the total is not
    /// known in advance: a run discovers the sites it reaches). Null (the default) reports nothing.
    /// </summary>
    public System.IProgress<long>? Progress { get; init; }

    /// <summary>How many runs between two reports to <see cref="Progress"/> (default 100).</summary>
    public long ProgressEvery { get; init; } = 100;

    /// <summary>Check distribution parameters and values at every site of every run (default true).</summary>
    public bool ValidateArguments { get; init; } = true;

    /// <summary>The defaults.</summary>
    public static ExactOptions Default { get; } = new();
}
