/// Data subsampling (Model.Subsample): a plate run on a random minibatch of B of N points scales its costs and
/// observations by N / B, so the cost and its gradient estimate the full data set's without bias (z-tests against
/// the exact full-data values). False-alarm rate: tests/README.md.
module Scg.Tests.SubsampleTests

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

let private f64s (xs: float[]) = torch.tensor(xs, dtype = torch.ScalarType.Float64)

[<Tests>]
let tests =
    testList "subsampling" [
        test "the minibatch cost and gradient are unbiased for the full data set's (sampled and enumerated y)" {
            let theta = torch.tensor(0.3, dtype = torch.ScalarType.Float64, requires_grad = true)
            let offsets = f64s [| -1.0; -0.5; 0.0; 0.4; 0.9; 1.5 |]
            let xs = f64s [| 0.2; -0.7; 1.1; 0.5; 0.9; -0.1 |]
            let build (estimator: SiteEstimator) =
                Model.Subsample("data", 6L, 2L, fun idx -> model {
                    let! y = Model.Sample("y", Bernoulli.FromLogits(theta + offsets.index_select(0L, idx)), estimator)
                    let! _ = Model.Observe("x", Normal(y, torch.ones_like(y)), xs.index_select(0L, idx))
                    return () })
            // full data: Σ_i Σ_y p(y | i) (−log N(x_i; y, 1))
            let p = torch.sigmoid(theta + offsets)
            let nll (y: float) = (xs - y).square() * 0.5 + 0.5 * System.Math.Log(2.0 * System.Math.PI)
            let exact = (p * nll 1.0 + (1.0 - p) * nll 0.0).sum()
            let target = Array.append [| exact.item<float>() |] (Stats.gradOf exact [ theta ])
            for (name, est) in [ "sampled", SiteEstimator.ScoreFunction; "enumerated", SiteEstimator.Enumerate ] do
                use gen = new torch.Generator(21UL, torch.CPU)
                let m = build est
                let samples =
                    Array.init 400 (fun _ ->
                        use scope = torch.NewDisposeScope()
                        let s = Surrogate.Build(Interpreter.Sample(m, RunOptions(Generator = gen, Particles = 50)).Trace)
                        Array.append [| s.Cost.item<float>() |] (Stats.gradOf s.Surrogate [ theta ]))
                let z = zOf samples target
                Expect.isLessThan z Stats.zBound (sprintf "%s: max |z| = %.2f, mean [cost, grad] %s vs %s" name z (Stats.fmt (Stats.estimate samples).Mean) (Stats.fmt target))
            // a minibatch of all N points is the full data set exactly (scale 1), enumerated
            let whole = Model.Subsample("data", 6L, 6L, fun idx -> model {
                let! y = Model.Sample("y", Bernoulli.FromLogits(theta + offsets.index_select(0L, idx)), SiteEstimator.Enumerate)
                let! _ = Model.Observe("x", Normal(y, torch.ones_like(y)), xs.index_select(0L, idx))
                return () })
            let s = Surrogate.Build(Interpreter.Sample(whole, RunOptions(Seed = 1UL)).Trace)
            Expect.floatClose Accuracy.veryHigh (s.Cost.item<float>()) (exact.item<float>()) "B = N: the exact cost"
        }

        test "a subsample size outside 1 … N is refused, naming the plate" {
            let m = Model.Subsample("data", 4L, 5L, fun idx -> Model.Return(idx))
            ErrorTests.throwsMentioning [ "'data'"; "1 … 4" ] (fun () -> Interpreter.Sample(m) |> ignore)
        }
    ]
