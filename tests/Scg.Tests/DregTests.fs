/// DReG (doubly reparameterised gradients) for IWAE and for wake-φ on a Normal–Normal model with K = 3: unbiased
/// (z-test) against the exact gradients of the expected bound and of wake-φ's expectation, computed by a different
/// method, Gauss–Hermite quadrature over the three particles' noise (checked against a finer rule); the same test
/// rejects IWAE with sticking the landing (DReG without its squared weights), which is biased for K > 1. Variances
/// against the plain estimators are compared as ratios on fixed seeds and printed, and the ratio is checked < 1.
/// False-alarm rate: tests/README.md (|z| > 5 per coordinate).
module Scg.Tests.DregTests

open System
open Expecto
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Objectives
open Scg.Tracing
open Scg.Tests.RandomScgTests

type private Tensor = torch.Tensor
let private model = ModelBuilder()
let private f64 (x: float) = torch.tensor(x, dtype = torch.ScalarType.Float64)
let private leaf (x: float) = torch.tensor(x, dtype = torch.ScalarType.Float64, requires_grad = true)
let private throwsMentioning = ErrorTests.throwsMentioning
/// The gradient with respect to the leaves, zeros where the scalar does not depend on one.
let private grad (scalar: Tensor) (leaves: Tensor list) = Estimators.Derivatives.Gradient(scalar, ResizeArray leaves).data<float>().ToArray()

/// Nodes and weights of the n-point Gauss–Hermite rule for E over N(0, 1) (Golub–Welsch: the eigenvalues of the
/// Jacobi matrix of the probabilists' Hermite polynomials, and the squared first components of its eigenvectors).
let private gaussHermite (n: int) =
    let off = torch.tensor([| for i in 1 .. n - 1 -> sqrt (float i) |], dtype = torch.ScalarType.Float64)
    let jacobi = torch.diag(off, 1L) + torch.diag(off, -1L)
    let struct (nodes, vectors) = torch.linalg.eigh(jacobi)
    nodes, vectors.[0].square()

// p: z ~ N(θ, 1), x ~ N(z, 0.5²) at x = 0.8; q(z) = N(m, e^s), far enough from the posterior N(0.54, 0.2) to matter
let private m, s, theta = leaf 0.0, leaf 0.3, leaf -0.5
let private logNormal (v: Tensor) (mu: Tensor) (sd: Tensor) = -0.5 * Math.Log(2.0 * Math.PI) - sd.log() - (v - mu).square() / (2.0 * sd.square())
let private generative = model {
    let! z = Model.Sample("z", Normal(theta, f64 1.0))
    let! _ = Model.Observe("x", Normal(z, f64 0.5), f64 0.8)
    return () }
let private pair stl = Guided.Pair(Model.Sample("z", Normal(m, s.exp())), generative, stickTheLanding = stl)
let private k = 3

/// Over a K-fold Gauss–Hermite grid of the particles' noise ε: the grid's weights and, per particle, z = m + e^s ε
/// and log w(z), all differentiable.
let private grid n =
    let nodes, weights = gaussHermite n
    let axis j (t: Tensor) = t.reshape([| for i in 0 .. k - 1 -> if i = j then int64 n else 1L |])
    let w = [ for j in 0 .. k - 1 -> axis j weights ] |> List.reduce (*)
    let zs = [ for j in 0 .. k - 1 -> m + s.exp() * axis j nodes ]
    let lws = zs |> List.map (fun z -> logNormal z theta (f64 1.0) + logNormal (f64 0.8) z (f64 0.5) - logNormal z m (s.exp()))
    let shape = Array.create k (int64 n)
    w, zs, torch.stack([| for lw in lws -> lw.expand(shape) |])

/// ∇(−E[IWAE bound]) with respect to m, s, θ.
let private exactIwae n =
    let w, _, lw = grid n
    grad (-(w * (lw.logsumexp(0L) - Math.Log(float k))).sum()) [ m; s; theta ]

/// −E[Σ_k w̄_k ∇φ log q(z_k)] (z and weights fixed) with respect to m, s.
let private exactWakePhi n =
    let w, zs, lw = grid n
    let wbar = lw.detach().softmax(0L)
    let logq = torch.stack([| for z in zs -> logNormal (z.detach().expand(Array.create k (int64 n))) m (s.exp()) |])
    grad (-(w * (wbar * logq).sum(0L)).sum()) [ m; s ]

let private variances (samples: float[][]) =
    let e = Stats.estimate samples
    e.StdErr |> Array.map (fun se -> se * se * float e.N)

[<Tests>]
let tests =
    testList "DReG" [
        test "the quadrature oracle has converged (24 against 32 points per particle)" {
            let a, b = exactIwae 24, exactIwae 32
            for j in 0 .. 2 do Expect.floatClose Accuracy.high a.[j] b.[j] (sprintf "IWAE gradient [%d]" j)
            let a, b = exactWakePhi 24, exactWakePhi 32
            for j in 0 .. 1 do Expect.floatClose Accuracy.high a.[j] b.[j] (sprintf "wake-φ [%d]" j)
        }

        test "IWAE with DReG is unbiased; with sticking the landing (no squared weights) it is rejected; DReG's φ-variance is lower" {
            let gstar = exactIwae 24
            let run (stl: bool) (build: Trace -> Tensor) =
                use gen = new torch.Generator(31UL, torch.CPU)
                Stats.gradients 3000 [ m; s; theta ] (fun _ -> build (Interpreter.Sample(pair stl, RunOptions(Generator = gen, Particles = k, MaxPlateNesting = 0)).Trace))
            let dreg = run true (fun tr -> Iwae.Build(tr, dreg = true).Loss)
            let plain = run false (fun tr -> Iwae.Build(tr).Loss)
            let stl = run true (fun tr -> Iwae.Build(tr).Loss)
            let report name (samples: float[][]) =
                sprintf "%s: max |z| = %.2f, mean %s vs %s" name (zOf samples gstar) (Stats.fmt (Stats.estimate samples).Mean) (Stats.fmt gstar)
            Expect.isLessThan (zOf plain gstar) Stats.zBound (report "plain reparameterised IWAE (the harness accepts it)" plain)
            Expect.isLessThan (zOf dreg gstar) Stats.zBound (report "DReG" dreg)
            Expect.isGreaterThan (zOf stl gstar) Stats.zBound (report "STL for IWAE, biased, must be rejected" stl)
            // θ's gradient is the same estimator with and without DReG
            let vd, vp = variances dreg, variances plain
            let ratios = [| vd.[0] / vp.[0]; vd.[1] / vp.[1] |]
            printfn "DReG/plain IWAE φ-gradient variance ratios (K = 3, seed 31, N = 3000): m %.3f, s %.3f" ratios.[0] ratios.[1]
            Expect.isTrue (ratios |> Array.forall (fun r -> r < 1.0)) (sprintf "DReG lowers the φ-variance: ratios %s" (Stats.fmt ratios))
        }

        test "DReG gives the same θ-gradient as plain IWAE on the same draws, and needs stickTheLanding" {
            for seed in 1UL .. 3UL do
                use scope = torch.NewDisposeScope()
                let tr = Interpreter.Sample(pair true, RunOptions(Seed = seed, Particles = k)).Trace
                let plain = grad (Iwae.Build(tr).Loss) [ theta ]
                let dreg = Iwae.Build(tr, dreg = true)
                Expect.floatClose Accuracy.veryHigh (grad dreg.Loss [ theta ]).[0] plain.[0] "θ"
                Expect.floatClose Accuracy.veryHigh (dreg.Bound.item<float>()) (Iwae.Build(tr).Bound.item<float>()) "the same bound"
                // by hand: φ's gradient is −Σ_k w̄_k² ∂ log w_k/∂z_k · ∂z_k/∂φ with log q's parameters detached
                let z = tr.Sample("z").Value
                let lw = logNormal z theta (f64 1.0) + logNormal (f64 0.8) z (f64 0.5) - logNormal z (m.detach()) (s.exp().detach())
                let hand = -(lw.detach().softmax(0L).square() * lw).sum()
                let ours, mine = grad dreg.Loss [ m; s ], grad hand [ m; s ]
                for j in 0 .. 1 do Expect.floatClose Accuracy.veryHigh ours.[j] mine.[j] (sprintf "seed %d, φ [%d]" seed j)
            let tr = Interpreter.Sample(pair false, RunOptions(Seed = 1UL, Particles = k)).Trace
            throwsMentioning [ "'z'"; "stickTheLanding: true" ] (fun () -> Iwae.Build(tr, dreg = true) |> ignore)
            let kl = Guided.Pair(Model.Sample("z", Normal(m, s.exp())), generative, analyticKl = true)
            throwsMentioning [ "'z'"; "analyticKl: false" ] (fun () -> Iwae.Build(Interpreter.Sample(kl, RunOptions(Seed = 1UL, Particles = k)).Trace, dreg = true) |> ignore)
        }

        test "wake-φ, plain (pathwise sites at fixed z) and with DReG, is unbiased; DReG's variance is lower" {
            let gstar = exactWakePhi 24
            let thetaStar = (exactIwae 24).[2]
            let run stl dreg =
                use gen = new torch.Generator(37UL, torch.CPU)
                Stats.gradients 3000 [ m; s; theta ] (fun _ ->
                    let o = WakeSleep.Build(Interpreter.Sample(pair stl, RunOptions(Generator = gen, Particles = k, MaxPlateNesting = 0)).Trace, WakeSleepPhases.Wake, dreg = dreg)
                    o.Loss)
            let plain, dreg = run false false, run true true
            for name, samples in [ "plain wake-φ", plain; "DReG wake-φ", dreg ] do
                let z = zOf samples (Array.append gstar [| thetaStar |])
                Expect.isLessThan z Stats.zBound (sprintf "%s (and wake-θ): max |z| = %.2f, mean %s vs %s" name z (Stats.fmt (Stats.estimate samples).Mean) (Stats.fmt (Array.append gstar [| thetaStar |])))
            let vd, vp = variances dreg, variances plain
            let ratios = [| vd.[0] / vp.[0]; vd.[1] / vp.[1] |]
            printfn "DReG/plain wake-φ variance ratios (K = 3, seed 37, N = 3000): m %.3f, s %.3f" ratios.[0] ratios.[1]
            Expect.isTrue (ratios |> Array.forall (fun r -> r < 1.0)) (sprintf "DReG lowers wake-φ's variance: ratios %s" (Stats.fmt ratios))
            // the two losses leave each other's parameters alone, pathwise sites included
            let tr = Interpreter.Sample(pair true, RunOptions(Seed = 5UL, Particles = k)).Trace
            let o = WakeSleep.Build(tr, WakeSleepPhases.Wake, dreg = true)
            Expect.equal (grad o.ThetaLoss [ m; s ]) [| 0.0; 0.0 |] "wake-θ: no gradient for the guide"
            Expect.equal (grad o.PhiLoss [ theta ]) [| 0.0 |] "wake-φ: no gradient for the model"
        }
    ]
