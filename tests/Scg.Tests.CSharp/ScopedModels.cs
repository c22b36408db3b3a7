using Scg.Distributions;
using Scg.Linq;
using static TorchSharp.torch;

namespace Scg.Tests.CSharp;

/// <summary>Model.Scope in LINQ query syntax: one sub-model used twice.</summary>
public static class ScopedModels
{
    /// <summary>A coin with its own logit parameter.</summary>
    private static Model<Tensor> Coin() =>
        from w in Model.Param("w", () => tensor(0.3, ScalarType.Float64))
        from z in Model.Sample("z", Bernoulli.FromLogits(w))
        select z;

    /// <summary>Two coins, in the scopes "left" and "right".</summary>
    public static Model<Tensor> TwoCoins() =>
        from a in Model.Scope("left", Coin())
        from b in Model.Scope("right", Coin())
        select a + b;
}
