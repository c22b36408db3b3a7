using System;
using Scg.Distributions;
using Scg.Interpretation;
using Scg.Linq;
using Scg.Verification.Checks;
using static TorchSharp.torch;

namespace Scg.Tests.CSharp;

/// <summary>The example of docs/verification.md ("Verify your own model"), kept compiling and run by the F# tests.</summary>
public static class VerifyExample
{
    /// <summary>Checks the example model's gradient estimator against its exact gradient and prints the report.</summary>
    public static CheckReport Check()
    {
        var model =
            from theta in Model.Param("theta", () => tensor(0.5, float64))
            from y in Model.Sample("y", Bernoulli.FromLogits(theta))                 // discrete: score function
            from z in Model.Sample("z", new Normal(y * 3.0, tensor(1.0, float64)))   // continuous: pathwise
            from c in Model.Cost("c", (z - 1.0).square())
            select z;
        var report = EstimatorCheck.Run(model, new ParamStore(), EstimatorConfiguration.Default,
                                        samples: 400, seed: 1, falseAlarmRate: 1e-3);
        Console.WriteLine(report);   // exact ∇, mean, std error, z, verdict, variance, SNR; each site's share of the variance
        return report;
    }
}
