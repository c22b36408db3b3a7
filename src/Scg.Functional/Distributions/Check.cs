using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>Parameter checks shared by the distributions; each returns null or a sentence naming the parameter.</summary>
internal static class Check
{
    public static string? Finite(string name, Tensor t)
    {
        using var ok = t.isfinite().all();
        return ok.item<bool>() ? null : $"{name} must be finite (found {Describe(t, t.isfinite().logical_not())})";
    }

    public static string? Positive(string name, Tensor t)
    {
        using var ok = t.isfinite().logical_and(t.gt(0)).all();
        return ok.item<bool>() ? null : $"{name} must be positive and finite (found {Describe(t, t.isfinite().logical_and(t.gt(0)).logical_not())})";
    }

    public static string? InUnitInterval(string name, Tensor t)
    {
        using var ok = t.ge(0).logical_and(t.le(1)).all();
        return ok.item<bool>() ? null : $"{name} must lie in [0, 1] (found {Describe(t, t.ge(0).logical_and(t.le(1)).logical_not())})";
    }

    private static string Describe(Tensor t, Tensor bad)
    {
        using var values = t.masked_select(bad);
        using var first = values.flatten()[0];
        return first.to_type(ScalarType.Float64).item<double>().ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
