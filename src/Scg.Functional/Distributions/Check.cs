using System;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>
/// Parameter checks shared by the distributions; each returns null or a sentence naming the parameter.
/// NaN fails every check.
/// </summary>
internal static class Check
{
    // Each check first tries a cheap sufficient condition (one or two reductions read back as numbers) and
    // only runs the element-by-element test, which builds the message, when that fails.

    public static string? Finite(string name, Tensor t) =>
        SumIsFinite(t) ? null : Elementwise(t, v => v.isfinite(), $"{name} must be finite");

    public static string? NotNaN(string name, Tensor t) =>
        SumIsFinite(t) ? null : Elementwise(t, v => v.isnan().logical_not(), $"{name} must not be NaN");

    public static string? Positive(string name, Tensor t) =>
        Range(t, out var min, out var max) && min > 0 && double.IsFinite(max)
            ? null : Elementwise(t, v => v.isfinite().logical_and(v.gt(0)), $"{name} must be positive and finite");

    public static string? NonNegative(string name, Tensor t) =>
        Range(t, out var min, out var max) && min >= 0 && double.IsFinite(max)
            ? null : Elementwise(t, v => v.isfinite().logical_and(v.ge(0)), $"{name} must be non-negative and finite");

    public static string? InUnitInterval(string name, Tensor t) =>
        Range(t, out var min, out var max) && min >= 0 && max <= 1
            ? null : Elementwise(t, v => v.ge(0).logical_and(v.le(1)), $"{name} must lie in [0, 1]");

    /// <summary>A finite sum implies that no element is NaN or infinite.</summary>
    private static bool SumIsFinite(Tensor t)
    {
        if (t.numel() == 0) return true;
        using var sum = t.sum();
        return double.IsFinite(sum.ToDouble());
    }

    /// <summary>The smallest and largest element (NaN when any element is NaN); false for an empty tensor.</summary>
    private static bool Range(Tensor t, out double min, out double max)
    {
        min = max = double.NaN;
        if (t.numel() == 0) return false;
        using var lo = t.min();
        using var hi = t.max();
        min = lo.ToDouble();
        max = hi.ToDouble();
        return true;
    }

    /// <summary>Finite values or −∞ (a logit of −∞ gives a category probability zero).</summary>
    public static string? FiniteOrNegativeInfinity(string name, Tensor t) =>
        Elementwise(t, v => v.isfinite().logical_or(v.isneginf()), $"{name} must be finite or -infinity");

    /// <summary>Elementwise <paramref name="low"/> &lt; <paramref name="high"/> (the tensors broadcast together).</summary>
    public static string? Less(string lowName, Tensor low, string highName, Tensor high)
    {
        using var ok = low.lt(high);
        using var all = ok.all();
        if (all.item<bool>()) return null;
        using var bad = ok.logical_not();
        using var lowFull = low.expand(bad.shape);
        using var highFull = high.expand(bad.shape);
        return $"{lowName} must be less than {highName} (found {lowName} = {First(lowFull, bad)}, {highName} = {First(highFull, bad)})";
    }

    /// <summary>Each vector along the last dimension is non-negative and sums to one within the dtype's tolerance.</summary>
    public static string? Simplex(string name, Tensor t)
    {
        if (NonNegative(name, t) is { } error) return error;
        using var sum = t.sum(-1);
        using var deviation = (sum - 1.0).abs();
        using var ok = deviation.le(SumTolerance(t.dtype));
        using var all = ok.all();
        if (all.item<bool>()) return null;
        using var bad = ok.logical_not();
        return $"{name} must sum to 1 over the last dimension (found a sum of {First(sum, bad)})";
    }

    /// <summary>Each vector along the last dimension has at least one entry above −∞.</summary>
    public static string? SomeFinite(string name, Tensor t)
    {
        using var finite = t.isfinite();
        using var any = finite.any(-1);
        using var all = any.all();
        return all.item<bool>() ? null : $"{name} must have a finite entry in every vector along the last dimension (found all -infinity)";
    }

    /// <summary>The tolerance on a sum of probabilities that should equal one.</summary>
    public static double SumTolerance(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 => 1e-9,
        ScalarType.Float32 => 1e-5,
        _ => 1e-2,
    };

    /// <summary>Throws when <paramref name="t"/> is not of a floating-point dtype (a programming error, not a value error).</summary>
    public static void RequireFloating(Tensor t, string name)
    {
        ArgumentNullException.ThrowIfNull(t, name);
        if (!t.is_floating_point())
            throw new ArgumentException($"{name} must have a floating-point dtype (found {t.dtype}).", name);
    }

    /// <summary>Throws when <paramref name="t"/> has no dimension to hold an event.</summary>
    public static void RequireVector(Tensor t, string name)
    {
        ArgumentNullException.ThrowIfNull(t, name);
        if (t.dim() == 0)
            throw new ArgumentException($"{name} must have at least one dimension (its last dimension is the event).", name);
    }

    private static string? Elementwise(Tensor t, Func<Tensor, Tensor> admissible, string requirement)
    {
        ArgumentNullException.ThrowIfNull(t);
        using var ok = admissible(t);
        using var all = ok.all();
        if (all.item<bool>()) return null;
        using var bad = ok.logical_not();
        return $"{requirement} (found {First(t, bad)})";
    }

    private static string First(Tensor t, Tensor bad)
    {
        using var values = t.masked_select(bad);
        using var first = values.flatten()[0];
        using var asDouble = first.to_type(ScalarType.Float64);
        return asDouble.item<double>().ToString(CultureInfo.InvariantCulture);
    }
}
