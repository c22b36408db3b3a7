/// Guided runs (a guide, then the model at the guide's values, in one trace): the cost is the negative ELBO, its
/// surrogate's gradient is unbiased (z-tests against closed forms), for pathwise and score-function guide sites;
/// mismatched latents are errors naming the site. False-alarm rate: tests/README.md.
module Scg.Tests.GuidedTests

open System
open Expecto
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Estimators
open Scg.Objectives
open Scg.Verification.FlatGraph
open Scg.Verification.FlatOracle
open Scg.Tests.RandomScgTests

let private model = ModelBuilder()
let private f64 (x: float) = torch.tensor(x, dtype = torch.ScalarType.Float64)
let private leaf (x: float) = torch.tensor(x, dtype = torch.ScalarType.Float64, requires_grad = true)
let private throwsMentioning = ErrorTests.throwsMentioning

/// Mean gradients and reported costs over chunks of K particles.
let private chunks (m: Model<'T>) (leaves: torch.Tensor list) (n: int) (k: int) =
    use gen = new torch.Generator(17UL, torch.CPU)
    let grads = Array.zeroCreate<float[]> n
    let costs = Array.zeroCreate<float[]> n
    for i in 0 .. n - 1 do
        use scope = torch.NewDisposeScope()
        let s = Surrogate.Build(Interpreter.Sample(m, RunOptions(Generator = gen, Particles = k)).Trace)
        costs.[i] <- [| s.Cost.item<float>() |]
        grads.[i] <- Stats.gradOf s.Surrogate leaves
    grads, costs

[<Tests>]
let tests =
    testList "guided runs" [
        test "Normal–Normal: the cost is −ELBO and the gradient is unbiased (pathwise guide)" {
            // z ~ N(0, 1), x ~ N(z, 0.5²), x = 0.8; q(z) = N(m, e^s)
            let m, s = leaf 0.3, leaf -0.4
            let x = 0.8
            let guide = Model.Sample("z", Normal(m, s.exp()))
            let generative = model {
                let! z = Model.Sample("z", Normal(f64 0.0, f64 1.0))
                let! _ = Model.Observe("x", Normal(z, f64 0.5), f64 x)
                return () }
            let pair = Guided.Pair(guide, generative)
            // −ELBO = E_q[log q − log p(z) − log p(x | z)], each in closed form
            let sd = s.exp()
            let entropy = 0.5 * Math.Log(2.0 * Math.PI * Math.E) + s
            let crossPrior = 0.5 * Math.Log(2.0 * Math.PI) + (m.square() + sd.square()) * 0.5
            let crossLik = Math.Log(0.5) + 0.5 * Math.Log(2.0 * Math.PI) + ((m - x).square() + sd.square()) / (2.0 * 0.25)
            let negElbo = -entropy + crossPrior + crossLik
            let gstar = Stats.gradOf negElbo [ m; s ]
            let grads, costs = chunks pair [ m; s ] 40 500
            let z = zOf grads gstar
            Expect.isLessThan z Stats.zBound (sprintf "gradient: max |z| = %.2f, mean %s vs %s" z (Stats.fmt (Stats.estimate grads).Mean) (Stats.fmt gstar))
            let zc = zOf costs [| negElbo.item<float>() |]
            Expect.isLessThan zc Stats.zBound (sprintf "cost: |z| = %.2f, mean %s vs −ELBO %g" zc (Stats.fmt (Stats.estimate costs).Mean) (negElbo.item<float>()))
            let tr = Interpreter.Sample(pair, RunOptions(Seed = 1UL)).Trace
            Expect.isTrue (tr.Sample("z").IsReparameterized) "the guide's z is pathwise"
            tr.Cost("z@q") |> ignore
            let e = Elbo.Build(tr)
            let plain = Surrogate.Build(tr)
            Expect.equal (e.Bound.item<float>()) (-plain.Cost.item<float>()) "Elbo.Build: the bound is −cost"
            Expect.equal (e.Value.item<float>()) (plain.Cost.item<float>()) "and its Value (minimised) the cost"
            tr.Observation("z@p") |> ignore
            // the analytic KL: same expectations, one cost z@kl in place of z@q and z@p
            let analytic = Guided.Pair(guide, generative, analyticKl = true)
            let grads, costs = chunks analytic [ m; s ] 40 500
            let z = zOf grads gstar
            Expect.isLessThan z Stats.zBound (sprintf "analytic KL, gradient: max |z| = %.2f, mean %s vs %s" z (Stats.fmt (Stats.estimate grads).Mean) (Stats.fmt gstar))
            let zc = zOf costs [| negElbo.item<float>() |]
            Expect.isLessThan zc Stats.zBound (sprintf "analytic KL, cost: |z| = %.2f" zc)
            let tr = Interpreter.Sample(analytic, RunOptions(Seed = 1UL)).Trace
            tr.Cost("z@kl") |> ignore
            Expect.isFalse (tr.TryGetNode("z@q") |> fst) "no sampled log q"
            Expect.isFalse (tr.TryGetNode("z@p") |> fst) "no sampled log p"
        }

        test "sticking the landing: unbiased, and every gradient is exactly zero when q is the posterior" {
            // z ~ N(0, 1), x ~ N(z, 0.5²), x = 0.8: the posterior is N(0.64, 0.2)
            let generative = model {
                let! z = Model.Sample("z", Normal(f64 0.0, f64 1.0))
                let! _ = Model.Observe("x", Normal(z, f64 0.5), f64 0.8)
                return () }
            let negElboOf (m: torch.Tensor) (s: torch.Tensor) =
                let sd = s.exp()
                -(0.5 * Math.Log(2.0 * Math.PI * Math.E) + s) + (0.5 * Math.Log(2.0 * Math.PI) + (m.square() + sd.square()) * 0.5)
                + (Math.Log(0.5) + 0.5 * Math.Log(2.0 * Math.PI) + ((m - 0.8).square() + sd.square()) / 0.5)
            let m, s = leaf 0.3, leaf -0.4
            let gstar = Stats.gradOf (negElboOf m s) [ m; s ]
            let stl = Guided.Pair(Model.Sample("z", Normal(m, s.exp())), generative, stickTheLanding = true)
            let grads, _ = chunks stl [ m; s ] 40 500
            let z = zOf grads gstar
            Expect.isLessThan z Stats.zBound (sprintf "STL: max |z| = %.2f, mean %s vs %s" z (Stats.fmt (Stats.estimate grads).Mean) (Stats.fmt gstar))
            let mOpt, sOpt = leaf 0.64, leaf (0.5 * Math.Log 0.2)
            let atOptimum stick =
                let pair = Guided.Pair(Model.Sample("z", Normal(mOpt, sOpt.exp())), generative, stickTheLanding = stick)
                fst (chunks pair [ mOpt; sOpt ] 20 1) |> Array.collect id |> Array.map abs |> Array.max
            Expect.isLessThan (atOptimum true) 1e-9 "STL at the posterior: every estimate is zero"
            Expect.isGreaterThan (atOptimum false) 1e-3 "without STL the estimates at the posterior still vary"
        }

        test "a score-function guide site keeps its gradient (a discrete latent, exact by enumeration)" {
            // y ~ Bern(σ(θ)) prior, x ~ N(2y − 1, 1) at x = 0.7; q(y) = Bern(σ(φ)), sampled with the score function
            let phi, theta = leaf 0.2, leaf -0.5
            let guide = Model.Sample("y", Bernoulli.FromLogits(phi), SiteEstimator.ScoreFunction.WithBaseline(Baseline.LeaveOneOut))
            let generative = model {
                let! y = Model.Sample("y", Bernoulli.FromLogits(theta))
                let! _ = Model.Observe("x", Normal(y * 2.0 - 1.0, f64 1.0), f64 0.7)
                return () }
            let mutable negElbo = f64 0.0
            for y in [ 0.0; 1.0 ] do
                let logq = if y = 1.0 then torch.nn.functional.logsigmoid(phi) else torch.nn.functional.logsigmoid(-phi)
                let logp = if y = 1.0 then torch.nn.functional.logsigmoid(theta) else torch.nn.functional.logsigmoid(-theta)
                let loglik = -0.5 * Math.Log(2.0 * Math.PI) - 0.5 * (0.7 - (2.0 * y - 1.0)) ** 2.0
                negElbo <- negElbo + logq.exp() * (logq - logp - loglik)
            let leaves = [ phi; theta ]
            let gstar = Stats.gradOf negElbo leaves
            let grads, costs = chunks (Guided.Pair(guide, generative)) leaves 40 400
            let z = zOf grads gstar
            Expect.isLessThan z Stats.zBound (sprintf "gradient: max |z| = %.2f, mean %s vs %s" z (Stats.fmt (Stats.estimate grads).Mean) (Stats.fmt gstar))
            Expect.isGreaterThan (abs gstar.[0]) 0.05 "φ's gradient is not trivially zero"
            let zc = zOf costs [| negElbo.item<float>() |]
            Expect.isLessThan zc Stats.zBound (sprintf "cost: |z| = %.2f" zc)
            // and enumerating the guide's y makes it exact
            let exact = Guided.Pair(Model.Sample("y", Bernoulli.FromLogits(phi), SiteEstimator.Enumerate), generative)
            let s = Surrogate.Build(Interpreter.Sample(exact, RunOptions(Seed = 1UL)).Trace)
            Expect.floatClose Accuracy.veryHigh (s.Cost.item<float>()) (negElbo.item<float>()) "enumerated: −ELBO exactly"
            let g = Stats.gradOf s.Surrogate leaves
            Expect.isTrue (Array.forall2 (fun (a: float) b -> abs (a - b) < 1e-9) g gstar) (sprintf "enumerated: gradient %s vs %s" (Stats.fmt g) (Stats.fmt gstar))
        }

        test "a latent the guide does not sample, or a guide site the model does not use, is an error naming it" {
            let t = leaf 0.1
            let generative = model {
                let! a = Model.Sample("a", Normal(f64 0.0, f64 1.0))
                let! b = Model.Sample("b", Normal(a, f64 1.0))
                let! _ = Model.Observe("x", Normal(b, f64 1.0), f64 0.0)
                return () }
            throwsMentioning [ "'b'"; "guide does not" ] (fun () ->
                Interpreter.Sample(Guided.Pair(Model.Sample("a", Normal(t, f64 1.0)), generative)) |> ignore)
            let guide = model {
                let! _ = Model.Sample("a", Normal(t, f64 1.0))
                let! _ = Model.Sample("b", Normal(t, f64 1.0))
                let! _ = Model.Sample("c", Normal(t, f64 1.0))
                return () }
            throwsMentioning [ "'c'"; "model does not" ] (fun () -> Interpreter.Sample(Guided.Pair(guide, generative)) |> ignore)
        }
    ]
