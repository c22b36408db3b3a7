using System;
using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>A set of admissible values (a distribution's support), checked element by element.</summary>
public abstract class Constraint
{
    /// <summary>A short description used in error messages, for example <c>real numbers in (0, ∞)</c>.</summary>
    public abstract string Description { get; }

    /// <summary>
    /// A boolean tensor, true where the value lies in the set. For constraints on whole events (simplex,
    /// one-hot) the event dimensions are reduced.
    /// </summary>
    /// <param name="value">The value to check.</param>
    public abstract Tensor Check(Tensor value);

    /// <summary>True when every element of <paramref name="value"/> lies in the set.</summary>
    /// <param name="value">The value to check.</param>
    public bool Contains(Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        using var ok = Check(value);
        using var all = ok.all();
        return all.item<bool>();
    }

    /// <inheritdoc />
    public override string ToString() => Description;
}
