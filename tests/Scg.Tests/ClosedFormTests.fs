/// Statistical tests of the surrogate against closed-form gradients (scg-math.md §7).
/// Each test draws M chunks of K vectorised particles (the surrogate averages the K estimates of a chunk), and
/// compares the mean of the M chunk gradients with the exact gradient by a z-test, |z| < Stats.zBound = 5:
/// under the null the false-alarm rate is below 1e-6 per coordinate and below 1e-4 for this file.
module Scg.Tests.ClosedFormTests

open System
open Expecto
open TorchSharp
type Tensor = TorchSharp.torch.Tensor
type Generator = TorchSharp.torch.Generator
type ScalarType = TorchSharp.torch.ScalarType
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Estimators

let model = ModelBuilder()
let f64 (x: float) = torch.tensor(x, dtype = ScalarType.Float64)
let leaf (x: float) = torch.tensor(x, dtype = ScalarType.Float64, requires_grad = true)
let leaves (xs: float[]) = torch.tensor(xs, dtype = ScalarType.Float64, requires_grad = true)

/// M chunks of K particles of `m`; returns the per-chunk gradient of the surrogate w.r.t. `ps`.
let chunkGradients (seed: uint64) (m: int) (k: int) (ps: Tensor list) (mdl: Model<'T>) =
    use g = new Generator(seed, torch.CPU)
    Stats.gradients m ps (fun _ ->
        let run = Interpreter.Sample(mdl, RunOptions(Generator = g, Particles = k, MaxPlateNesting = 0))
        Surrogate.Build(run.Trace).Surrogate)

let expectUnbiased name (est: float[][]) (exact: float[]) =
    let e = Stats.estimate est
    let z = Stats.maxAbsZ e exact
    Expect.isLessThan z Stats.zBound
        (sprintf "%s: mean gradient [%s] vs exact [%s] (se [%s]), max |z| = %.2f" name (Stats.fmt e.Mean) (Stats.fmt exact) (Stats.fmt e.StdErr) z)

[<Tests>]
let normalQuadratic =
    // z ~ N(mu, sigma^2), cost (z - a)^2:  d/dmu = 2(mu - a), d/dsigma = 2 sigma.
    let mu, sigma, a = 0.3, 0.8, 1.1
    let exact = [| 2.0 * (mu - a); 2.0 * sigma |]
    let build estimator (pm: Tensor) (ps: Tensor) =
        model {
            let! z = Model.Sample("z", Normal(pm, ps), estimator)
            let! _ = Model.Cost("f", (z - a).square())
            return z
        }
    testList "closed form: Normal with quadratic cost" [
        for est in [ SiteEstimator.Auto; SiteEstimator.Pathwise; SiteEstimator.ScoreFunction ] do
          yield test (sprintf "%A estimator is unbiased" est) {
                let pm, ps = leaf mu, leaf sigma
                let g = chunkGradients 11UL 60 400 [ pm; ps ] (build est pm ps)
                expectUnbiased (string est) g exact
            }
        yield test "Auto chooses pathwise for Normal: no score term, gradient exact per sample" {
            let pm, ps = leaf mu, leaf sigma
            use gen = new Generator(3UL, torch.CPU)
            let run = Interpreter.Sample(build SiteEstimator.Auto pm ps, RunOptions(Generator = gen))
            let z = run.Value.item<float>()
            let grad = Stats.gradOf (Surrogate.Build(run.Trace).Surrogate) [ pm; ps ]
            let eps = (z - mu) / sigma
            Expect.floatClose Accuracy.high grad.[0] (2.0 * (z - a)) "d/dmu of (mu + sigma eps - a)^2"
            Expect.floatClose Accuracy.high grad.[1] (2.0 * (z - a) * eps) "d/dsigma"
        }
    ]
