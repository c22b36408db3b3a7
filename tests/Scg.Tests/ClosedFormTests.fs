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
                // through the public verification API: the closed form, Exact's value, and EstimatorCheck's z-test
                let pm, ps = leaf mu, leaf sigma
                let parameters = ResizeArray [ Collections.Generic.KeyValuePair("mu", pm); Collections.Generic.KeyValuePair("sigma", ps) ]
                let m = build SiteEstimator.Auto pm ps
                let exactGradient = Scg.Verification.Exact.Gradient(m, ParamStore(), parameters).ToArray()
                for j in 0 .. 1 do Expect.floatClose Accuracy.high exactGradient.[j] exact.[j] "Exact.Gradient matches the closed form"
                let configuration =
                    Scg.Verification.Checks.EstimatorConfiguration(string est, Particles = 400, MaxPlateNesting = 0,
                                                                   Estimators = EstimatorOverrides.None.For("z", est))
                let options = Scg.Verification.Checks.CheckOptions(Parameters = parameters, ExactGradient = exact, SiteDiagnostics = false)
                let report = Scg.Verification.Checks.EstimatorCheck.Run(m, ParamStore(), configuration, 60, 11UL, 2.0 * Stats.perCoordinateRate, options)
                Expect.isTrue report.Passed (string report)
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

/// Oracle helper: the exact gradient of a differentiable expression of the leaves.
let exactGrad (value: Tensor) (ps: Tensor list) = Stats.gradOf value ps

[<Tests>]
let discrete =
    testList "closed form: discrete sites" [
        test "Bernoulli(sigmoid theta) with a cost depending on the coin and on theta" {
            // E = p f(1) + (1 - p) f(0), f(b) = (b - 0.3)^2 * 2 + theta^2 * b
            let theta = leaf 0.4
            let f (b: Tensor) = (b - 0.3).square() * 2.0 + theta.square() * b
            let m = model {
                let! b = Model.Sample("b", Bernoulli.FromLogits(theta))
                let! _ = Model.Cost("f", f b)
                return b }
            let p = theta.sigmoid()
            let exact = exactGrad (p * f (f64 1.0) + (1.0 - p) * f (f64 0.0)) [ theta ]
            // the closed form of scg-math.md as a cross-check of the oracle itself
            let s = 1.0 / (1.0 + exp -0.4)
            Expect.floatClose Accuracy.high exact.[0] (s * (1.0 - s) * (2.0 * 0.49 + 0.16 - 2.0 * 0.09) + s * 2.0 * 0.4) "oracle"
            expectUnbiased "Bernoulli" (chunkGradients 21UL 60 400 [ theta ] m) exact
        }

        test "Categorical with softmax logits" {
            let logits = leaves [| 0.3; -0.2; 0.8; 0.0 |]
            let values = torch.tensor([| 1.0; -2.0; 0.5; 3.0 |], dtype = ScalarType.Float64)
            let m = model {
                let! y = Model.Sample("y", Categorical.FromLogits(logits))
                let! _ = Model.Cost("f", values.[y] + logits.[y] * 0.5)
                return y }
            let probs = logits.softmax(0)
            let exact = exactGrad ((probs * (values + logits * 0.5)).sum()) [ logits ]
            expectUnbiased "Categorical" (chunkGradients 22UL 60 400 [ logits ] m) exact
        }

        test "lecture shape: y ~ Categorical(pi(x)), z ~ N(mu(x, y), sigma(x, y)), cost on both" {
            // x is a fixed input; pi = softmax(W x), mu = a[y] + b x, sigma = exp(s[y]); cost (z - t[y])^2 + c[y] * z
            let x = 0.7
            let w = leaves [| 0.5; -1.0; 0.25 |]
            let a = leaves [| 0.0; 1.0; -1.0 |]
            let b = leaf 0.3
            let s = leaves [| -0.5; 0.0; 0.2 |]
            let target = torch.tensor([| 0.5; -0.5; 1.5 |], dtype = ScalarType.Float64)
            let c = torch.tensor([| 1.0; -1.0; 0.5 |], dtype = ScalarType.Float64)
            let ps = [ w; a; b; s ]
            let m = model {
                let! y = Model.Sample("y", Categorical.FromLogits(w * x))
                let mu = a.[y] + b * x
                let! z = Model.Sample("z", Normal(mu, s.[y].exp()))
                let! _ = Model.Cost("cost", (z - target.[y]).square() + c.[y] * z)
                return z }
            // E[cost | y] = (mu_y - t_y)^2 + sigma_y^2 + c_y mu_y, enumerated over y
            let pi = (w * x).softmax(0)
            let mu = a + b * x
            let sigma = s.exp()
            let exact = exactGrad ((pi * ((mu - target).square() + sigma.square() + c * mu)).sum()) ps
            expectUnbiased "lecture" (chunkGradients 23UL 80 500 ps m) exact
        }
    ]
