using System;
using Scg.Interpretation;

namespace Scg.Objectives;

/// <summary>How <see cref="Aesmc.Run{TState}"/> runs its particle filter.</summary>
/// <param name="Particles">The number K ≥ 1 of particles; every step runs its model once with
/// <see cref="RunOptions.Particles"/> = K.</param>
public sealed record AesmcOptions(int Particles)
{
    /// <summary>
    /// Resample after a step when the effective sample size ESS = 1 / Σ_k W_k² of the normalised weights W falls
    /// below this fraction of K: 1 resamples after every step, 0 never (plain importance sampling of whole
    /// trajectories); default 0.5. Never after the last step. Must lie in [0, 1].
    /// </summary>
    public double EssThreshold { get; init; } = 0.5;

    /// <summary>How ancestors are drawn when resampling (default <see cref="AesmcResampling.Multinomial"/>).</summary>
    public AesmcResampling Resampling { get; init; } = AesmcResampling.Multinomial;

    /// <summary>
    /// How each step runs (seed or generator, parameter store, <see cref="RunOptions.MaxPlateNesting"/>, validation);
    /// defaults when null. A seed makes one generator for the whole filter (steps and resampling), so the same seed
    /// gives the same filter. <see cref="RunOptions.Particles"/> must be 0 or <see cref="Particles"/>. When
    /// <see cref="RunOptions.MaxPlateNesting"/> is null the first step measures it and later steps reuse it.
    /// </summary>
    public RunOptions? Run { get; init; }

    /// <summary>Throws when the options cannot describe a filter; the message names the option.</summary>
    internal void Check()
    {
        if (Particles < 1)
            throw new ArgumentOutOfRangeException(nameof(Particles), $"Aesmc.Run: AesmcOptions.Particles must be at least 1 (got {Particles}).");
        if (!(EssThreshold >= 0.0 && EssThreshold <= 1.0))
            throw new ArgumentOutOfRangeException(nameof(EssThreshold),
                $"Aesmc.Run: AesmcOptions.EssThreshold must lie in [0, 1] (got {EssThreshold}): it is a fraction of K; 1 resamples after every step, 0 never.");
        if (Run is { } run && run.Particles != 0 && run.Particles != Particles)
            throw new ArgumentException(
                $"Aesmc.Run: AesmcOptions.Run.Particles = {run.Particles} differs from AesmcOptions.Particles = {Particles}; leave RunOptions.Particles at 0 (the filter sets it).",
                nameof(Run));
    }
}
