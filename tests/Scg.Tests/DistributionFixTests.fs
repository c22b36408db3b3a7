/// Issue 7 part 3, distributions: boundary parameters with finite gradients, models that can be run and
/// back-propagated again, messages that name the distribution, parameter, value and site, and the refusal
/// of score-function estimation where the support moves with the parameters.
module Scg.Tests.DistributionFixTests

open System
open Expecto
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Estimators

type private Tensor = torch.Tensor

let private f64 = torch.ScalarType.Float64
let private f32 = torch.ScalarType.Float32
let private model = ModelBuilder()
let private t (x: float) = torch.tensor (x, dtype = f64)
let private vec (xs: float[]) = torch.tensor (xs, dtype = f64)
let private leafOf (x: Tensor) = x.detach().clone().requires_grad_ (true)
let private values (x: Tensor) = x.detach().to_type(f64).contiguous().data<float>().ToArray ()
let private value (x: Tensor) = x.detach().to_type(f64).item<float> ()
let private gradOf (x: Tensor) = values x.grad

let private allFinite (xs: float[]) = xs |> Array.forall Double.IsFinite

let private expectClose (tol: float) (what: string) (actual: float[]) (expected: float[]) =
    Expect.equal actual.Length expected.Length (what + ": number of values")
    for i in 0 .. actual.Length - 1 do
        Expect.isTrue (Double.IsFinite actual.[i]) (sprintf "%s[%d] is finite (got %g)" what i actual.[i])
        Expect.isLessThanOrEqual (abs (actual.[i] - expected.[i])) tol (sprintf "%s[%d]: %g vs %g" what i actual.[i] expected.[i])

let private throwsMentioning (fragments: string list) (f: unit -> unit) =
    let e = Expect.throwsC f id
    for fragment in fragments do
        Expect.stringContains e.Message fragment (sprintf "message %A should mention %A" e.Message fragment)

/// Runs the model once with validation on, builds the surrogate and back-propagates it.
let private runAndBackward (seed: uint64) (m: Model<'T>) =
    let r = Interpreter.Sample(m, RunOptions(Seed = seed))
    let s = Surrogate.Build(r.Trace)
    s.Surrogate.backward ()
    r

let private sampleWithCost (name: string) (d: Distribution) (cost: Tensor -> Tensor) =
    model {
        let! x = Model.Sample(name, d)
        let! _ = Model.Cost("c", cost x)
        return x }

let private boundaries =
    testList "boundary parameters" [
        test "Bernoulli.FromProbs at p = 1: log p(1) = 0 with gradient 1; log p(0) = -inf" {
            let p = leafOf (t 1.0)
            let d = Bernoulli.FromProbs(p)
            let lp = d.LogProb(t 1.0)
            Expect.equal (value lp) 0.0 "log p(x = 1 | p = 1)"
            lp.backward ()
            expectClose 1e-12 "d/dp log p" (gradOf p) [| 1.0 |]
            Expect.equal (value (d.LogProb(t 0.0))) Double.NegativeInfinity "log p(x = 0 | p = 1): impossible"
        }
        test "Bernoulli.FromProbs at p = 0: log p(0) = 0 with gradient -1" {
            let p = leafOf (t 0.0)
            let lp = Bernoulli.FromProbs(p).LogProb(t 0.0)
            Expect.equal (value lp) 0.0 "log p(x = 0 | p = 0)"
            lp.backward ()
            expectClose 1e-12 "d/dp log(1 - p)" (gradOf p) [| -1.0 |]
        }
        test "Bernoulli.FromProbs at p = 0 and 1 in a model: draws 0 and 1, surrogate gradient finite and exact" {
            // E[x + 1] = p + 1, so the exact gradient is 1; with p at a boundary the draw is certain, and the
            // score-function estimate (x + 1) · d/dp log p(x) is 2 · 1 at p = 1 and 1 · (−1) at p = 0.
            for pv, expectedX, expectedGrad in [ 1.0, 1.0, 2.0; 0.0, 0.0, -1.0 ] do
                let p = leafOf (t pv)
                let r = runAndBackward 3UL (sampleWithCost "b" (Bernoulli.FromProbs(p)) (fun x -> x + 1.0))
                Expect.equal (value r.Value) expectedX (sprintf "draw at p = %g" pv)
                expectClose 1e-12 (sprintf "surrogate gradient at p = %g" pv) (gradOf p) [| expectedGrad |]
        }
        test "Bernoulli.FromProbs(sigmoid(-120f)) in float32: the probability underflows to 0, the gradient stays finite" {
            let w = torch.tensor(-120.0f, dtype = f32).requires_grad_ (true)
            let p = w.sigmoid ()
            Expect.equal (value p) 0.0 "sigmoid(-120) underflows in float32"
            let lp = Bernoulli.FromProbs(p).LogProb(torch.tensor (0.0f))
            Expect.equal (value lp) 0.0 "log p(x = 0)"
            lp.backward ()
            // d/dw log(1 − σ(w)) = −σ(w), which is 0 in float32.
            expectClose 1e-30 "d/dw log p(0)" (gradOf w) [| 0.0 |]
            let w2 = torch.tensor(-120.0f, dtype = f32).requires_grad_ (true)
            let r = runAndBackward 5UL (model {
                        let! x = Model.Sample("b", Bernoulli.FromProbs(w2.sigmoid ()))
                        let! _ = Model.Cost("c", x + 1.0f)
                        return x })
            Expect.equal (value r.Value) 0.0 "the draw is 0"
            Expect.isTrue (allFinite (gradOf w2)) "finite gradient through the model"
        }
        test "Categorical.FromProbs(softmax(w)) with an underflowing probability: finite, exact gradient" {
            let wv = [| 0.0; 0.5; -1000.0 |]
            let w = leafOf (vec wv)
            let probs = w.softmax (-1)
            Expect.equal (values probs).[2] 0.0 "the third probability underflows"
            let lp = Categorical.FromProbs(probs).LogProb(torch.tensor (0L))
            let z = Math.Exp 0.0 + Math.Exp 0.5
            expectClose 1e-12 "log p(0)" [| value lp |] [| -Math.Log z |]
            lp.backward ()
            // d/dw log softmax(w)_0 = e_0 − softmax(w)
            expectClose 1e-12 "d/dw log p(0)" (gradOf w) [| 1.0 - 1.0 / z; -Math.Exp 0.5 / z; 0.0 |]
            Expect.equal (value (Categorical.FromProbs(probs.detach ()).LogProb(torch.tensor (2L)))) Double.NegativeInfinity
                "the underflowed category is impossible"
        }
        test "OneHotCategorical.FromProbs(softmax(w)) with an underflowing probability in a model: finite gradient" {
            let w = leafOf (vec [| 0.0; 0.5; -1000.0 |])
            let r = runAndBackward 9UL (sampleWithCost "k" (OneHotCategorical.FromProbs(w.softmax (-1))) (fun x -> x.sum ()))
            Expect.equal (values r.Value).[2] 0.0 "never the underflowed category"
            Expect.isTrue (allFinite (gradOf w)) (sprintf "finite gradient (got %A)" (gradOf w))
            let w2 = leafOf (vec [| 0.0; 0.5; -1000.0 |])
            let r2 = runAndBackward 9UL (sampleWithCost "k" (Categorical.FromProbs(w2.softmax (-1))) (fun x -> x.to_type(f64) + 1.0))
            Expect.isTrue (allFinite (gradOf w2)) (sprintf "finite gradient (got %A)" (gradOf w2))
            Expect.notEqual (value r2.Value) 2.0 "never the underflowed category"
        }
        test "Poisson(rate = 0): draws 0, log p(0) = 0 with gradient -1" {
            let rate = leafOf (t 0.0)
            let lp = Poisson(rate).LogProb(t 0.0)
            Expect.equal (value lp) 0.0 "log p(0 | 0)"
            lp.backward ()
            expectClose 1e-12 "d/drate log p(0)" (gradOf rate) [| -1.0 |]
            let rate2 = leafOf (t 0.0)
            let r = runAndBackward 2UL (sampleWithCost "n" (Poisson(rate2)) (fun x -> x + 1.0))
            Expect.equal (value r.Value) 0.0 "the draw is 0"
            expectClose 1e-12 "surrogate gradient (x + 1) · d log p / d rate" (gradOf rate2) [| -1.0 |]
        }
    ]

/// One family with parameters derived from leaves: the distribution, the leaves, a cost of the value.
type private Family = { Name: string; Make: unit -> Distribution * Tensor list }

let private families : Family list =
    let two (a: float[]) (b: float[]) = leafOf (vec a), leafOf (vec b)
    [ { Name = "Normal"; Make = fun () -> let l, s = two [| 0.1; 0.2 |] [| 1.5 |] in Normal(l, s) :> Distribution, [ l; s ] }
      { Name = "LogNormal"; Make = fun () -> let l, s = two [| 0.1; 0.2 |] [| 0.5 |] in LogNormal(l, s) :> Distribution, [ l; s ] }
      { Name = "Laplace"; Make = fun () -> let l, s = two [| 0.1; 0.2 |] [| 1.5 |] in Laplace(l, s) :> Distribution, [ l; s ] }
      { Name = "Uniform"; Make = fun () -> let l, h = two [| 0.1; 0.2 |] [| 1.5 |] in Uniform(l, h) :> Distribution, [ l; h ] }
      { Name = "Exponential"; Make = fun () -> let r = leafOf (vec [| 0.5; 2.0 |]) in Exponential(r) :> Distribution, [ r ] }
      { Name = "Gamma"; Make = fun () -> let a, b = two [| 2.0; 3.0 |] [| 1.5 |] in Gamma(a, b) :> Distribution, [ a; b ] }
      { Name = "Beta"; Make = fun () -> let a, b = two [| 2.0; 3.0 |] [| 1.5 |] in Beta(a, b) :> Distribution, [ a; b ] }
      { Name = "Dirichlet"; Make = fun () -> let c = leafOf (vec [| 2.0; 3.0; 0.5 |]) in Dirichlet(c) :> Distribution, [ c ] }
      { Name = "Poisson"; Make = fun () -> let r = leafOf (vec [| 0.5; 2.0 |]) in Poisson(r) :> Distribution, [ r ] }
      { Name = "Bernoulli.FromProbs"; Make = fun () -> let p = leafOf (vec [| 0.3; 0.6 |]) in Bernoulli.FromProbs(p) :> Distribution, [ p ] }
      { Name = "Bernoulli.FromLogits"; Make = fun () -> let l = leafOf (vec [| 0.3; -0.6 |]) in Bernoulli.FromLogits(l) :> Distribution, [ l ] }
      { Name = "Categorical.FromProbs"; Make = fun () -> let p = leafOf (vec [| 0.2; 0.3; 0.5 |]) in Categorical.FromProbs(p) :> Distribution, [ p ] }
      { Name = "Categorical.FromLogits"; Make = fun () -> let l = leafOf (vec [| 0.2; -0.3; 0.5 |]) in Categorical.FromLogits(l) :> Distribution, [ l ] }
      { Name = "OneHotCategorical.FromProbs"; Make = fun () -> let p = leafOf (vec [| 0.2; 0.3; 0.5 |]) in OneHotCategorical.FromProbs(p) :> Distribution, [ p ] }
      { Name = "OneHotCategorical.FromLogits"; Make = fun () -> let l = leafOf (vec [| 0.2; -0.3; 0.5 |]) in OneHotCategorical.FromLogits(l) :> Distribution, [ l ] }
      { Name = "MultivariateNormalDiag"; Make = fun () -> let l, s = two [| 0.1; 0.2 |] [| 1.5 |] in MultivariateNormalDiag(l, s) :> Distribution, [ l; s ] }
      { Name = "Independent(Normal)"; Make = fun () -> let l, s = two [| 0.1; 0.2 |] [| 1.5 |] in Independent(Normal(l, s), 1) :> Distribution, [ l; s ] }
      { Name = "Independent(Bernoulli.FromProbs)"; Make = fun () -> let p = leafOf (vec [| 0.3; 0.6 |]) in Independent(Bernoulli.FromProbs(p), 1) :> Distribution, [ p ] } ]

let private rerun =
    testList "a model value runs again" [
        for family in families do
            test (family.Name + ": the same model value runs and back-propagates twice with the same gradient") {
                let d, leaves = family.Make ()
                let m = sampleWithCost "x" d (fun x -> x.to_type(f64).square().sum () + 1.0)
                let gradients () =
                    runAndBackward 11UL m |> ignore
                    let g = leaves |> List.map gradOf
                    for l in leaves do l.grad.zero_ () |> ignore
                    g
                let first = gradients ()
                let second = gradients ()
                for g in first do Expect.isTrue (allFinite g) "finite gradient"
                Expect.isTrue (first |> List.exists (Array.exists (fun v -> v <> 0.0))) "some gradient reaches the parameters"
                Expect.equal second first "same seed, same gradient"
            }
        test "a model run with particles twice" {
            let p = leafOf (t 0.3)
            let m = sampleWithCost "b" (Bernoulli.FromProbs(p)) (fun x -> x + 1.0)
            for _ in 1..2 do
                let r = Interpreter.Sample(m, RunOptions(Seed = 1UL, Particles = 3))
                Surrogate.Build(r.Trace).Surrogate.backward ()
            Expect.isTrue (allFinite (gradOf p)) "finite gradient"
        }
    ]

let private messages =
    testList "messages" [
        test "parameters that do not broadcast name the distribution, the parameters and their shapes" {
            let a = torch.zeros (2L, dtype = f64)
            let b = torch.ones (3L, dtype = f64)
            let cases : (string * string * string * (unit -> obj)) list =
                [ "Normal", "loc", "scale", (fun () -> box (Normal(a, b)))
                  "LogNormal", "loc", "scale", (fun () -> box (LogNormal(a, b)))
                  "Laplace", "loc", "scale", (fun () -> box (Laplace(a, b)))
                  "Uniform", "low", "high", (fun () -> box (Uniform(a, b)))
                  "Gamma", "concentration", "rate", (fun () -> box (Gamma(a, b)))
                  "Beta", "concentration1", "concentration0", (fun () -> box (Beta(a, b)))
                  "MultivariateNormalDiag", "loc", "scaleDiag", (fun () -> box (MultivariateNormalDiag(a, b))) ]
            for name, first, second, make in cases do
                throwsMentioning [ name; first + " [2]"; second + " [3]"; "broadcast" ] (make >> ignore)
        }
        test "half precision Gamma, Beta and Dirichlet sample and score in their own dtype" {
            for dtype in [ torch.ScalarType.Float16; torch.ScalarType.BFloat16 ] do
                let h (xs: float[]) = torch.tensor(xs, dtype = f64).to_type (dtype)
                let cases : (string * Distribution) list =
                    [ "Gamma", Gamma(h [| 2.0; 0.5 |], h [| 1.5; 1.0 |])
                      "Beta", Beta(h [| 2.0; 0.5 |], h [| 1.5; 1.0 |])
                      "Dirichlet", Dirichlet(h [| 2.0; 0.5; 1.0 |]) ]
                for name, d in cases do
                    let r = Interpreter.Sample(Model.Sample("s", d), RunOptions(Seed = 1UL))
                    let node = r.Trace.Samples |> Seq.head
                    Expect.equal r.Value.dtype dtype (sprintf "%s %A: draws keep the dtype" name dtype)
                    Expect.equal node.LogProb.dtype dtype (sprintf "%s %A: log-probabilities keep the dtype" name dtype)
                    Expect.isTrue (allFinite (values node.LogProb)) (sprintf "%s %A: finite log-probabilities" name dtype)
                    // compare with the same distribution in float64
                    let wide : Distribution =
                        match d with
                        | :? Gamma as g -> Gamma(g.Concentration.to_type f64, g.Rate.to_type f64)
                        | :? Beta as b -> Beta(b.Concentration1.to_type f64, b.Concentration0.to_type f64)
                        | :? Dirichlet as c -> Dirichlet(c.Concentration.to_type f64)
                        | _ -> failwith "unexpected"
                    let exact = values (wide.LogProb(r.Value.to_type f64))
                    let got = values node.LogProb
                    for i in 0 .. exact.Length - 1 do
                        Expect.isLessThan (abs (got.[i] - exact.[i])) (0.05 * (1.0 + abs exact.[i]))
                            (sprintf "%s %A: log p close to float64" name dtype)
        }
        test "an observed value outside the support shows the first offending value and its index" {
            throwsMentioning [ "'x'"; "Bernoulli"; "0.5"; "[2]" ] (fun () ->
                Interpreter.Sample(Model.Observe("x", Bernoulli.FromProbs(vec [| 0.3; 0.3; 0.3; 0.3 |]), vec [| 0.0; 1.0; 0.5; 7.0 |])) |> ignore)
            throwsMentioning [ "'n'"; "Poisson"; "-1"; "[1, 0]" ] (fun () ->
                let v = torch.tensor([| 1.0; 2.0; -1.0; 3.0 |], dtype = f64).reshape (2L, 2L)
                Interpreter.Sample(Model.Observe("n", Poisson(torch.ones(2L, 2L, dtype = f64)), v)) |> ignore)
            throwsMentioning [ "'d'"; "Dirichlet"; "0.5, 0.6"; "[1]" ] (fun () ->
                let v = torch.tensor([| 0.5; 0.5; 0.5; 0.6 |], dtype = f64).reshape (2L, 2L)
                Interpreter.Sample(Model.Observe("d", Dirichlet(torch.ones(2L, 2L, dtype = f64)), v)) |> ignore)
        }
        test "a replayed value outside the support shows the offending value" {
            let m = Model.Sample("n", Poisson(vec [| 1.0; 2.0 |]))
            let given = dict [ "n", vec [| 1.0; 2.5 |] ] |> Collections.Generic.Dictionary
            throwsMentioning [ "'n'"; "Poisson"; "2.5"; "[1]" ] (fun () -> Interpreter.Replay(m, given) |> ignore)
        }
    ]

let private supportEstimator =
    testList "support that moves with the parameters" [
        test "ScoreFunction on Uniform is refused, naming the site and why" {
            let lo = leafOf (t 0.0)
            let m = Model.Sample("u", Uniform(lo, t 2.0), SiteEstimator.ScoreFunction)
            throwsMentioning [ "'u'"; "Uniform"; "support"; "Pathwise" ] (fun () -> Interpreter.Sample(m) |> ignore)
            let wrapped = Model.Sample("w", Independent(Uniform(vec [| 0.0; 1.0 |], vec [| 1.0; 2.0 |]), 1), SiteEstimator.ScoreFunction)
            throwsMentioning [ "'w'"; "Uniform"; "support" ] (fun () -> Interpreter.Sample(wrapped) |> ignore)
        }
        test "Auto on Uniform resolves to Pathwise; ScoreFunction stays allowed where the support is fixed" {
            let r = Interpreter.Sample(Model.Sample("u", Uniform(t 0.0, t 2.0)), RunOptions(Seed = 1UL))
            Expect.equal (r.Trace.Samples |> Seq.head).Estimator SiteEstimator.Pathwise "Auto on Uniform"
            Expect.isTrue (Uniform(t 0.0, t 1.0) :> Distribution).SupportDependsOnParameters "Uniform's support moves"
            Expect.isFalse (Normal(t 0.0, t 1.0) :> Distribution).SupportDependsOnParameters "Normal's support is fixed"
            let r2 = Interpreter.Sample(Model.Sample("z", Normal(t 0.0, t 1.0), SiteEstimator.ScoreFunction), RunOptions(Seed = 1UL))
            Expect.equal (r2.Trace.Samples |> Seq.head).Estimator SiteEstimator.ScoreFunction "ScoreFunction on Normal"
        }
    ]

[<Tests>]
let tests = testList "distribution fixes" [ boundaries; rerun; messages; supportEstimator ]
