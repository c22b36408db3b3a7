using System;
using System.Globalization;
using System.Linq;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>A set of admissible values (a distribution's support), checked element by element.</summary>
public abstract class Constraint
{
    /// <summary>How many entries of an offending event a message shows at most.</summary>
    private const int ShownEntries = 8;

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
    public bool Contains(Tensor value) => FirstViolation(value) is null;

    /// <summary>
    /// Null when every element of <paramref name="value"/> lies in the set; otherwise a phrase showing the first
    /// offending element and its index, for example <c>found 0.5 at index [2]</c> (for constraints on whole
    /// events, the offending event's entries).
    /// </summary>
    /// <param name="value">The value to check.</param>
    public string? FirstViolation(Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        using var ok = Check(value);
        using var all = ok.all();
        if (all.item<bool>()) return null;
        using var bad = ok.logical_not();
        using var positions = bad.nonzero();
        using var firstRow = positions[0];
        var index = firstRow.data<long>().ToArray();
        return $"found {Describe(value, ok.shape, index)} at index [{string.Join(", ", index)}]";
    }

    /// <summary>The offending element (or event) of <paramref name="value"/> at <paramref name="index"/> of the check's shape.</summary>
    private static string Describe(Tensor value, long[] checkShape, long[] index)
    {
        using var scope = NewDisposeScope();   // frees the temporaries of this message
        var eventDims = Math.Max(0, (int)value.dim() - checkShape.Length);
        try
        {
            var picked = value.expand([.. checkShape, .. value.shape[^eventDims..]]);
            foreach (var i in index) picked = picked[i];
            var numbers = picked.flatten().to_type(ScalarType.Float64).cpu().data<double>().ToArray();
            var shown = string.Join(", ", numbers.Take(ShownEntries).Select(v => v.ToString(CultureInfo.InvariantCulture)));
            if (eventDims == 0) return shown;
            return numbers.Length > ShownEntries ? $"[{shown}, …]" : $"[{shown}]";
        }
        catch (Exception e) when (e is ArgumentException or ExternalException)
        {
            return "a value";   // the value and the check do not line up (a constraint that broadcasts oddly)
        }
    }

    /// <inheritdoc />
    public override string ToString() => Description;
}
