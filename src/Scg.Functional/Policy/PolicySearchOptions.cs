using System;
using System.Collections.Generic;

namespace Scg.Policy;

/// <summary>Settings of <see cref="PolicySearch.Train"/>.</summary>
public sealed record PolicySearchOptions
{
    /// <summary>The most steps per episode.</summary>
    public int Horizon { get; init; } = CartPole.Horizon;

    /// <summary>Adam's learning rate, for the policy and the value function alike.</summary>
    public double LearningRate { get; init; } = 0.01;

    /// <summary>Stop after this many episodes (one update uses the environments' N episodes).</summary>
    public int MaxEpisodes { get; init; } = 5000;

    /// <summary>The seed of the one generator that draws every reset and action of the loop.</summary>
    public ulong Seed { get; init; }

    /// <summary>How each update's gradient is estimated (discount, baseline, critic).</summary>
    public PolicyGradientOptions Gradient { get; init; } = PolicyGradientOptions.Default;

    /// <summary>Says, from the returns of all episodes so far (oldest first), whether the task is solved; checked after
    /// every episode. Null: never (train for <see cref="MaxEpisodes"/>).</summary>
    public Func<IReadOnlyList<double>, bool>? Solved { get; init; }

    /// <summary>Check the runs' arguments (distribution parameters, shapes); off by default for speed.</summary>
    public bool ValidateArguments { get; init; }
}
