/// DiCE: the surrogate's value is the cost and its gradient the first-order surrogate's, exactly, on random plated
/// graphs; its Hessian passes the z-test against the autograd Hessian of the exact oracle (closed forms and random
/// plated graphs, with and without baselines), and the same harness rejects the Hessian of the first-order
/// surrogate. Derivatives refuses what would terminate the process. False-alarm rate: tests/README.md.
module Scg.Tests.DiceTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Estimators
open Scg.Verification.FlatGraph
open Scg.Verification.FlatOracle
open Scg.Tests.RandomScgTests
open Scg.Verification.PlatedProgram
open Scg.Verification.PlatedModel
open Scg.Verification.PlatedOracle
open Scg.Verification.NaiveSurrogate
open Scg.Tests.RandomPlatedTests

type private Tensor = TorchSharp.torch.Tensor
let private model = ModelBuilder()
let private f64 (x: float) = torch.tensor(x, dtype = torch.ScalarType.Float64)
let private leavesOf (xs: float list) = [ for x in xs -> torch.tensor(x, dtype = torch.ScalarType.Float64, requires_grad = true) ]

/// Flattened gradient and Hessian of a scalar.
let gradHess (s: Tensor) (leaves: Tensor list) =
    let r = Derivatives.GradientAndHessian(s, Array.ofList leaves)
    r.Gradient.data<float>().ToArray(), r.Hessian.flatten().data<float>().ToArray()

type RunOptions with
    member o.With(gen: torch.Generator, k: int, nesting: int) = RunOptions(Generator = gen, Particles = k, MaxPlateNesting = nesting, Params = o.Params, Estimators = o.Estimators)

/// M chunks of K particles: per chunk, the Hessian (flattened) of the DiCE surrogate and of the first-order surrogate.
let private hessianChunks (m: Model<unit>) (leaves: Tensor list) (chunks: int) (k: int) (nesting: int) (seed: uint64) (options: SurrogateOptions) (runOptions: RunOptions) =
    use gen = new torch.Generator(seed, torch.CPU)
    let dice = Array.zeroCreate<float[]> chunks
    let first = Array.zeroCreate<float[]> chunks
    for r in 0 .. chunks - 1 do
        use scope = torch.NewDisposeScope()
        let run = Interpreter.Sample(m, runOptions.With(gen, k, nesting))
        dice.[r] <- snd (gradHess (Dice.Build(run.Trace, options).Surrogate) leaves)
        first.[r] <- snd (gradHess (Surrogate.Build(run.Trace, options).Surrogate) leaves)
    dice, first

/// A two-step Bernoulli chain with a plate: z1 ~ Bern(σ(θ1)); in plate p[3], z2 ~ Bern(σ(θ2 + z1 + o_i)); costs
/// c1 = 2 z1 θ2 (outside), c2_i = (z1 + z2_i − 1)² + θ1 z2_i (inside). Returns the model and the exact J(θ).
let private chainModel (leaves: Tensor list) (estimator: SiteEstimator) =
    let t1, t2 = leaves.[0], leaves.[1]
    let offsets = torch.tensor([| -0.5; 0.0; 0.7 |], dtype = torch.ScalarType.Float64)
    model {
        let! z1 = Model.Sample("z1", Bernoulli.FromLogits(t1), estimator)
        let! _ = Model.Cost("c1", z1 * t2 * 2.0)
        let! _ = Model.Plate("p", 3L, model {
            let! z2 = Model.Sample("z2", Bernoulli.FromLogits(t2 + z1 + offsets), estimator)
            let! _ = Model.Cost("c2", (z1 + z2 - 1.0).square() + t1 * z2)
            return () })
        return () }

let private chainExact (th: Tensor) =
    let t1, t2 = th.[0], th.[1]
    let offsets = torch.tensor([| -0.5; 0.0; 0.7 |], dtype = torch.ScalarType.Float64)
    let mutable j = torch.zeros([||], dtype = torch.ScalarType.Float64)
    for z1 in [ 0.0; 1.0 ] do
        let p1 = if z1 = 1.0 then torch.sigmoid(t1) else 1.0 - torch.sigmoid(t1)
        let q = torch.sigmoid(t2 + z1 + offsets)
        // E over each z2_i of (z1 + z2 − 1)² + θ1 z2
        let inner = q * ((z1 * z1) + t1) + (1.0 - q) * ((z1 - 1.0) * (z1 - 1.0))
        j <- j + p1 * (t2 * z1 * 2.0 + inner.sum())
    j

[<Tests>]
let tests =
    testList "DiCE" [
        testPropertyWithConfig (platedConfig 300) "value = cost and gradient = the first-order surrogate's, exactly, on random plated graphs" <|
            Prop.forAll (Arb.fromGen genProgram) (fun g ->
                use scope = torch.NewDisposeScope()
                let k = [| 0; 1; 3 |].[int (g.Seed % 3UL)]
                let leaves = platedLeaves g
                use gen = new torch.Generator(g.Seed, torch.CPU)
                let nesting = neededNesting g
                let run = Interpreter.Sample(toPlatedModel g k nesting leaves, runOptions gen k nesting)
                let dice = Dice.Build(run.Trace)
                let first = Surrogate.Build(run.Trace)
                let close (a: float) (b: float) = abs (a - b) <= 1e-9 * (1.0 + max (abs a) (abs b))
                if not (close (dice.Surrogate.item<float>()) (first.Cost.item<float>())) then
                    failtestf "DiCE value %g ≠ cost %g\n%O" (dice.Surrogate.item<float>()) (first.Cost.item<float>()) g
                let gd, gf = Stats.gradOf dice.Surrogate leaves, Stats.gradOf first.Surrogate leaves
                if not (Array.forall2 close gd gf) then failtestf "DiCE gradient %s ≠ first-order %s\n%O" (Stats.fmt gd) (Stats.fmt gf) g)

        test "chain in a plate: the DiCE Hessian is unbiased (also with baselines); the first-order surrogate's is rejected" {
            let leaves = leavesOf [ 0.3; -0.4 ]
            let exactJ = chainExact (torch.stack(Array.ofList leaves))
            let gstar, hstar = gradHess exactJ leaves
            Expect.isTrue (hstar |> Array.exists (fun h -> abs h > 0.05)) "a Hessian worth testing"
            let cases =
                [ "no baseline", SiteEstimator.ScoreFunction, RunOptions()
                  "constant baseline", SiteEstimator.ScoreFunction.WithBaseline(Baseline.Constant 1.3), RunOptions()
                  "moving average", SiteEstimator.ScoreFunction.WithBaseline(Baseline.MovingAverage(0.8)), RunOptions(Params = ParamStore())
                  "leave-one-out", SiteEstimator.ScoreFunction.WithBaseline(Baseline.LeaveOneOut), RunOptions() ]
            let mutable rejected = 0
            for (name, est, ro) in cases do
                let m = chainModel leaves est
                let dice, first = hessianChunks m leaves 30 400 1 11UL SurrogateOptions.Default ro
                let z = zOf dice hstar
                Expect.isLessThan z Stats.zBound (sprintf "%s: DiCE Hessian max |z| = %.2f; mean %s vs exact %s" name z (Stats.fmt (Stats.estimate dice).Mean) (Stats.fmt hstar))
                if zOf first hstar > Stats.zBound then rejected <- rejected + 1
            Expect.equal rejected cases.Length "the first-order surrogate's Hessian is rejected in every case"
        }

        testPropertyWithConfig (platedConfig 8) "random plated graphs: the DiCE Hessian matches the exact oracle's" <|
            Prop.forAll (Arb.fromGen genProgram) (fun g ->
                let u = unroll g
                let leaves = platedLeaves g
                let hstar = snd (gradHess (platedOracle u (torch.stack(Array.ofList leaves)) (fun _ -> false) (costNames g)) leaves)
                let nesting = neededNesting g
                let dice, _ = hessianChunks (toPlatedModel g 200 nesting leaves) leaves 25 200 nesting g.Seed SurrogateOptions.Default (RunOptions())
                let z = zOf dice hstar
                if not (z < Stats.zBound) then
                    failtestf "DiCE Hessian max |z| = %.2f: mean %s vs exact %s\n%O" z (Stats.fmt (Stats.estimate dice).Mean) (Stats.fmt hstar) g)

        test "the README's DiCE example estimates J'(θ) and J''(θ) without bias" {
            // E[c | y] = (3y − 1)² + 1, so J = 2 + 3σ(θ): J' = 3σ(1 − σ), J'' = 3σ(1 − σ)(1 − 2σ)
            let s = 1.0 / (1.0 + exp -0.5)
            let exact = [| 3.0 * s * (1.0 - s); 3.0 * s * (1.0 - s) * (1.0 - 2.0 * s) |]
            let samples = [| for seed in 1UL .. 30UL -> let struct (g, h) = Scg.Tests.CSharp.ReadmeExample.Hessian(seed, 2000) in [| g; h |] |]
            let z = zOf samples exact
            Expect.isLessThan z Stats.zBound (sprintf "README DiCE example: max |z| = %.2f, mean %s vs %s" z (Stats.fmt (Stats.estimate samples).Mean) (Stats.fmt exact))
        }

        test "Derivatives after backward() freed the graph: a clear exception, not a dead process; .grad untouched" {
            let theta = torch.tensor(0.5, dtype = torch.ScalarType.Float64, requires_grad = true)
            let m = model {
                let! y = Model.Sample("y", Bernoulli.FromLogits(theta))
                let! _ = Model.Cost("c", (y - 0.2).square())
                return () }
            let run = Interpreter.Sample(m, RunOptions(Seed = 1UL, Particles = 8))
            let first = Surrogate.Build(run.Trace)
            first.Surrogate.backward()
            let before = theta.grad.item<float>()
            ErrorTests.throwsMentioning [ "freed"; "new run" ] (fun () -> Derivatives.Gradient(first.Surrogate, [| theta |]) |> ignore)
            ErrorTests.throwsMentioning [ "freed" ] (fun () -> Derivatives.GradientAndHessian(Dice.Build(run.Trace).Surrogate, [| theta |]) |> ignore)
            Expect.equal (theta.grad.item<float>()) before "the parameter's .grad is as backward() left it"
            // a fresh run works, and leaves .grad alone too
            let fresh = Dice.Build(Interpreter.Sample(m, RunOptions(Seed = 2UL, Particles = 8)).Trace)
            Derivatives.GradientAndHessian(fresh.Surrogate, [| theta |]) |> ignore
            Expect.equal (theta.grad.item<float>()) before ".grad untouched by Derivatives"
        }

        test "Derivatives: a parameter without a gradient is refused (not a dead process); H·v agrees with the Hessian" {
            let leaves = leavesOf [ 0.3; -0.4 ]
            let j = chainExact (torch.stack(Array.ofList leaves))
            ErrorTests.throwsMentioning [ "Parameter 1"; "requires_grad" ] (fun () ->
                Derivatives.Gradient(j, [| leaves.[0]; f64 1.0 |]) |> ignore)
            let h = Derivatives.GradientAndHessian(j, Array.ofList leaves).Hessian
            let v = torch.tensor([| 0.5; -2.0 |], dtype = torch.ScalarType.Float64)
            let hv = Derivatives.HessianVectorProduct(j, Array.ofList leaves, v)
            let expected = h.matmul(v)
            Expect.isTrue (torch.allclose(hv, expected)) "H·v"
            // a scalar that depends on no parameter: zeros, no crash
            let r = Derivatives.GradientAndHessian(f64 2.0, Array.ofList leaves)
            Expect.equal (r.Gradient.abs().sum().item<float>() + r.Hessian.abs().sum().item<float>()) 0.0 "zeros"
        }
    ]
