/// SurrogateOptions.TotalCost (plain REINFORCE): with particles, each particle's signal is its own total, so it
/// stays unbiased with and without a leave-one-out baseline (a total over all particles made every leave-one-out
/// signal exactly zero). z-test bound and false-alarm rate: tests/README.md.
module Scg.Tests.TotalCostTests

open Expecto
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Estimators
open Scg.Verification.FlatGraph
open Scg.Verification.FlatOracle
open Scg.Tests.RandomScgTests
open Scg.FSharp


[<Tests>]
let tests =
    testList "total cost" [
        test "per-particle totals: unbiased alone and with leave-one-out, and not zero" {
            let theta = torch.tensor(0.4, dtype = torch.ScalarType.Float64, requires_grad = true)
            // z ~ Bern(σ(θ)), c1 = 3 z, c2 = 1 + z²: J = 1 + 4σ(θ), J' = 4σ(1 − σ)
            let m = model {
                let! z = Model.Sample("z", Bernoulli.FromLogits(theta))
                let! _ = Model.Cost("c1", z * 3.0)
                let! _ = Model.Cost("c2", 1.0 + z.square())
                return () }
            let s = 1.0 / (1.0 + exp -0.4)
            let exact = [| 4.0 * s * (1.0 - s) |]
            for (name, baseline) in [ "no baseline", None; "leave-one-out", Some Baseline.LeaveOneOut ] do
                use gen = new torch.Generator(3UL, torch.CPU)
                let options = SurrogateOptions(TotalCost = true, Baseline = Option.toObj baseline)
                let samples = Stats.gradients 40 [ theta ] (fun _ ->
                    Surrogate.Build(Interpreter.Sample(m, RunOptions(Generator = gen, Particles = 200)).Trace, options).Surrogate)
                let z = zOf samples exact
                Expect.isLessThan z Stats.zBound (sprintf "%s: max |z| = %.2f, mean %s vs %s" name z (Stats.fmt (Stats.estimate samples).Mean) (Stats.fmt exact))
        }
    ]
