/// Reweighted wake-sleep: wake-θ and wake-φ equal their self-normalised definitions computed by hand, sample by sample,
/// and are unbiased for their exact expectations (all K-tuples of a discrete latent enumerated), while the same z-test
/// rejects wake-φ with the weights dropped or left unnormalised; sleep-φ is unbiased against its closed form and
/// rejected when the guide is not given the dreamed data. False-alarm rate: tests/README.md (|z| > 5 per coordinate).
module Scg.Tests.WakeSleepTests

open System
open System.Collections.Generic
open Expecto
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Objectives
open Scg.Verification.FlatGraph
open Scg.Verification.FlatOracle
open Scg.Tests.RandomScgTests

type private Tensor = torch.Tensor
let private model = ModelBuilder()
let private f64 (x: float) = torch.tensor(x, dtype = torch.ScalarType.Float64)
let private leaf (x: float) = torch.tensor(x, dtype = torch.ScalarType.Float64, requires_grad = true)
let private throwsMentioning = ErrorTests.throwsMentioning
let private logSig (t: Tensor) = torch.nn.functional.logsigmoid(t)
/// The gradient with respect to the leaves, zeros where the scalar does not depend on one.
let private grad (scalar: Tensor) (leaves: Tensor list) = Estimators.Derivatives.Gradient(scalar, ResizeArray leaves).data<float>().ToArray()

// y ~ Bern(σ(θ)), x ~ N(2y − 1, 1) at x = 0.7; the guide q(y) = Bern(σ(φ)) (a score-function site)
let private phi, theta = leaf 0.2, leaf -0.5
let private leaves = [ phi; theta ]
let private generative = model {
    let! y = Model.Sample("y", Bernoulli.FromLogits(theta))
    let! _ = Model.Observe("x", Normal(y * 2.0 - 1.0, f64 1.0), f64 0.7)
    return () }
let private pair = Guided.Pair(Model.Sample("y", Bernoulli.FromLogits(phi)), generative)

/// log q(y) and log p(x, y) of a tensor of y's, by hand.
let private logQ (y: Tensor) = y * logSig phi + (1.0 - y) * logSig (-phi)
let private logP (y: Tensor) =
    y * logSig theta + (1.0 - y) * logSig (-theta) - 0.5 * Math.Log(2.0 * Math.PI) - 0.5 * (0.7 - (2.0 * y - 1.0)).square()

/// The hand-made wake losses for draws y (one per particle), with the given weights of the particles.
let private handLosses (y: Tensor) (weights: Tensor -> Tensor) =
    let lw = (logP y - logQ y).detach()
    let w = weights lw
    -(w * logP y).sum(), -(w * logQ y).sum()

let private normalised (lw: Tensor) = lw.softmax(0L)

[<Tests>]
let tests =
    testList "reweighted wake-sleep" [
        test "wake-θ and wake-φ equal their self-normalised definitions, sample by sample (K = 4)" {
            for seed in 1UL .. 5UL do
                use scope = torch.NewDisposeScope()
                let tr = Interpreter.Sample(pair, RunOptions(Seed = seed, Particles = 4)).Trace
                let o = WakeSleep.Build(tr, WakeSleepPhases.Wake)
                let y = tr.Sample("y").Value
                let thetaHand, phiHand = handLosses y normalised
                let close (a: float[]) (b: float[]) what =
                    for j in 0 .. a.Length - 1 do Expect.floatClose Accuracy.veryHigh a.[j] b.[j] (sprintf "seed %d, %s [%d]" seed what j)
                close (grad o.ThetaLoss leaves) (grad thetaHand leaves) "wake-θ"
                close (grad o.PhiLoss leaves) (grad phiHand leaves) "wake-φ"
                Expect.equal (grad o.ThetaLoss [ phi ]) [| 0.0 |] "wake-θ has no gradient for the guide"
                Expect.equal (grad o.PhiLoss [ theta ]) [| 0.0 |] "wake-φ has no gradient for the model"
                close (grad o.Loss leaves) [| (grad phiHand leaves).[0]; (grad thetaHand leaves).[1] |] "Loss"
                let lw = logP y - logQ y
                Expect.floatClose Accuracy.veryHigh (o.Value.item<float>()) (-(lw.logsumexp(0L).item<float>() - Math.Log 4.0)) "Value = −IWAE bound"
                // a broken estimator, unnormalised weights, is told apart sample by sample
                let _, phiBroken = handLosses y (fun lw -> lw.exp())
                Expect.isGreaterThan (abs ((grad o.PhiLoss leaves).[0] - (grad phiBroken leaves).[0])) 1e-6 "unnormalised weights differ"
                // one phase alone leaves the other loss at zero
                let onlyPhi = WakeSleep.Build(tr, WakeSleepPhases.WakePhi)
                Expect.equal (onlyPhi.ThetaLoss.item<float>()) 0.0 "no wake-θ asked for"
        }

        test "wake-θ and wake-φ are unbiased for their exact expectations; dropped or unnormalised weights are rejected (K = 3)" {
            // exact: Σ over the 8 triples of Π_k q(y_k) · Σ_k w̄_k ∇ log p (θ) and ∇ log q (φ)
            let k = 3
            let mutable exactTheta = f64 0.0
            let mutable exactPhi = f64 0.0
            for code in 0 .. (1 <<< k) - 1 do
                let y = torch.tensor([| for j in 0 .. k - 1 -> float ((code >>> j) &&& 1) |], dtype = torch.ScalarType.Float64)
                let prob = (logQ y).sum().exp().detach()
                let t, p = handLosses y normalised
                exactTheta <- exactTheta + prob * t
                exactPhi <- exactPhi + prob * p
            let gstar = [| (grad exactPhi [ phi ]).[0]; (grad exactTheta [ theta ]).[0] |]
            Expect.isGreaterThan (abs gstar.[0]) 0.02 "wake-φ's expectation is not trivially zero"
            use gen = new torch.Generator(23UL, torch.CPU)
            let n = 2000
            let ours, uniform, unnormalised = Array.zeroCreate n, Array.zeroCreate n, Array.zeroCreate n
            let sp, st = (torch.sigmoid(phi)).item<float>(), (torch.sigmoid(theta)).item<float>()
            for i in 0 .. n - 1 do
                use scope = torch.NewDisposeScope()
                let tr = Interpreter.Sample(pair, RunOptions(Generator = gen, Particles = k, MaxPlateNesting = 0)).Trace
                ours.[i] <- grad (WakeSleep.Build(tr, WakeSleepPhases.Wake).Loss) leaves
                // the broken estimators by hand, with ∂φ log q(y) = y − σ(φ) and ∂θ log p(x, y) = y − σ(θ)
                let y = tr.Sample("y").Value
                let lw = (logP y - logQ y).detach()
                let ys = y.data<float>().ToArray()
                let broken (c: float[]) = [| -(Array.map2 (fun c y -> c * (y - sp)) c ys |> Array.sum); -(Array.map2 (fun c y -> c * (y - st)) c ys |> Array.sum) |]
                uniform.[i] <- broken (Array.create k (1.0 / float k))
                unnormalised.[i] <- broken ((lw.exp() / float k).data<float>().ToArray())
            let z = zOf ours gstar
            Expect.isLessThan z Stats.zBound (sprintf "wake phases: max |z| = %.2f, mean %s vs %s" z (Stats.fmt (Stats.estimate ours).Mean) (Stats.fmt gstar))
            for name, samples in [ "weights dropped (1/K)", uniform; "unnormalised weights", unnormalised ] do
                let z = zOf samples gstar
                Expect.isGreaterThan z Stats.zBound (sprintf "%s must be rejected: max |z| = %.2f, mean %s vs %s" name z (Stats.fmt (Stats.estimate samples).Mean) (Stats.fmt gstar))
        }

        test "sleep-φ: the guide learns from dreams (z, x) ~ p, unbiased against the closed form; a guide given the real data is rejected" {
            // p: z ~ N(θ, 1), x ~ N(z, 0.5²); q(z | x) = N(a x + b, e^s). Sleep loss J = −E_p[log q(z | x)] in closed form:
            // z − a x − b has mean (1 − a) θ − b and variance (1 − a)² + 0.25 a².
            let a, b, s, th = leaf 0.3, leaf 0.1, leaf -0.2, leaf 0.4
            let sleepModel = model {
                let! z = Model.Sample("z", Normal(th, f64 1.0))
                let! _ = Model.Observe("x", Normal(z, f64 0.5), f64 0.8)
                return () }
            let guideOf (x: Tensor) = Model.Sample("z", Normal(a * x + b, s.exp()))
            let exact =
                let mean = (1.0 - a) * th - b
                let var = (1.0 - a).square() + 0.25 * a.square()
                0.5 * Math.Log(2.0 * Math.PI) + s + (var + mean.square()) / (2.0 * (2.0 * s).exp())
            let phiLeaves = [ a; b; s ]
            let gstar = grad exact phiLeaves
            // sample by sample: the loss is −(1/K) Σ_k log q(z_k | x_k) at the dreamed pairs, with no gradient for θ
            let mutable dreamed = f64 0.0
            let guide = Func<IReadOnlyDictionary<string, Tensor>, Model<Tensor>>(fun obs -> dreamed <- obs.["x"]; guideOf obs.["x"])
            let wakePair = Guided.Pair(Model.Sample("z", Normal(a * 0.8 + b, s.exp())), sleepModel)
            for seed in 1UL .. 3UL do
                use scope = torch.NewDisposeScope()
                let sleep = WakeSleep.Sleep(sleepModel, guide, RunOptions(Seed = seed, Particles = 5))
                let wake = Interpreter.Sample(wakePair, RunOptions(Seed = seed, Particles = 5)).Trace
                let o = WakeSleep.Build(wake, WakeSleepPhases.SleepPhi, sleep)
                let z = sleep.Sample("z").Value
                Expect.equal dreamed.shape [| 5L |] "five dreamed x's"
                Expect.isFalse (dreamed.requires_grad || z.requires_grad) "dreams carry no gradient"
                let hand = -((Normal(a * dreamed + b, s.exp())).LogProb(z)).mean()
                let ours, mine = grad o.PhiLoss phiLeaves, grad hand phiLeaves
                for j in 0 .. 2 do Expect.floatClose Accuracy.veryHigh ours.[j] mine.[j] (sprintf "seed %d, coordinate %d" seed j)
                Expect.equal (grad o.PhiLoss [ th ]) [| 0.0 |] "sleep-φ has no gradient for the model"
                Expect.equal (o.ThetaLoss.item<float>()) 0.0 "only sleep-φ asked for"
            use gen = new torch.Generator(29UL, torch.CPU)
            let estimates (guideFor: IReadOnlyDictionary<string, Tensor> -> Model<Tensor>) =
                Array.init 1500 (fun _ ->
                    use scope = torch.NewDisposeScope()
                    let options = RunOptions(Generator = gen, Particles = 4, MaxPlateNesting = 0)
                    let sleep = WakeSleep.Sleep(sleepModel, Func<_, _>(guideFor), options)
                    grad (WakeSleep.Build(Interpreter.Sample(wakePair, options).Trace, WakeSleepPhases.SleepPhi, sleep).PhiLoss) phiLeaves)
            let ours = estimates (fun obs -> guideOf obs.["x"])
            let z = zOf ours gstar
            Expect.isLessThan z Stats.zBound (sprintf "sleep-φ: max |z| = %.2f, mean %s vs %s" z (Stats.fmt (Stats.estimate ours).Mean) (Stats.fmt gstar))
            let broken = estimates (fun _ -> guideOf (f64 0.8))
            let z = zOf broken gstar
            Expect.isGreaterThan z Stats.zBound (sprintf "a guide given the real x instead of the dream must be rejected: max |z| = %.2f" z)
        }

        test "bad requests are refused with messages that say what to do" {
            let tr = Interpreter.Sample(pair, RunOptions(Seed = 1UL, Particles = 2)).Trace
            throwsMentioning [ "phases" ] (fun () -> WakeSleep.Build(tr, WakeSleepPhases.None) |> ignore)
            throwsMentioning [ "SleepPhi"; "WakeSleep.Sleep" ] (fun () -> WakeSleep.Build(tr, WakeSleepPhases.All) |> ignore)
            throwsMentioning [ "Particles" ] (fun () -> WakeSleep.Build(Interpreter.Sample(pair, RunOptions(Seed = 1UL)).Trace, WakeSleepPhases.Wake) |> ignore)
            throwsMentioning [ "no guide sites"; "Guided.Pair" ] (fun () -> WakeSleep.Build(Interpreter.Sample(generative, RunOptions(Seed = 1UL, Particles = 2)).Trace, WakeSleepPhases.Wake) |> ignore)
            let m, s = leaf 0.0, leaf 0.0
            let normalModel = model {
                let! z = Model.Sample("z", Normal(f64 0.0, f64 1.0))
                let! _ = Model.Observe("x", Normal(z, f64 0.5), f64 0.8)
                return () }
            let g = Model.Sample("z", Normal(m, s.exp()))
            let run p = Interpreter.Sample(p, RunOptions(Seed = 1UL, Particles = 2)).Trace
            throwsMentioning [ "'z'"; "analyticKl: false" ] (fun () -> WakeSleep.Build(run (Guided.Pair(g, normalModel, analyticKl = true)), WakeSleepPhases.Wake) |> ignore)
            throwsMentioning [ "'z'"; "stickTheLanding"; "dreg: true" ] (fun () -> WakeSleep.Build(run (Guided.Pair(g, normalModel, stickTheLanding = true)), WakeSleepPhases.WakePhi) |> ignore)
            throwsMentioning [ "'z'"; "stickTheLanding: true" ] (fun () -> WakeSleep.Build(run (Guided.Pair(g, normalModel)), WakeSleepPhases.WakePhi, dreg = true) |> ignore)
            throwsMentioning [ "'z'"; "drawn" ] (fun () -> WakeSleep.Build(tr, WakeSleepPhases.SleepPhi, run (Guided.Pair(g, normalModel))) |> ignore)
            throwsMentioning [ "SleepPhi was not asked" ] (fun () -> WakeSleep.Build(tr, WakeSleepPhases.Wake, tr) |> ignore)
            throwsMentioning [ "cannot be dreamed" ] (fun () -> Interpreter.Dream(Guided.Pair(g, normalModel)) |> ignore)
        }
    ]
