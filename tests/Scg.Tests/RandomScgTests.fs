/// Randomised tests of the surrogate estimator on generated FLAT stochastic computation graphs (scg-math.md §1, §7).
/// The generator (Scg.Verification.FlatGraph) and the exact oracle (Scg.Verification.FlatOracle) live in the
/// library src/Scg.Verification.FsCheck; their description is in the headers there and in tests/README.md.
///
/// Statistics. Each graph is run M = 40 times with K = 400 vectorised particles (the surrogate averages the K
/// estimates of a run); the M run gradients are the samples of a z-test, |z| < Stats.zBound = 5 on every
/// coordinate (two-sided 1.25e-5 per coordinate under the null with M = 40 runs, Student's t). Tests that must pass under the null: the gradient
/// property, 50 graphs × ≤ 3 coordinates; the cost test, 50 graphs × 1 value; in the rejection test, the
/// total-cost estimator and the two calibration checks, ≤ 30 graphs × 3 estimators × ≤ 3 coordinates. That is
/// ≤ 470 z-tests, so the file's false-alarm rate is below 470 × 1.25e-5 ≈ 6e-3 (Bonferroni). All seeds are fixed:
/// FsCheck's replay seed, the graphs' torch seeds (drawn by the generator), the sample of graphs
/// used by the rejection tests.
module Scg.Tests.RandomScgTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Estimators
open Scg.Tracing
open Scg.Verification
open Scg.Verification.FlatGraph
open Scg.Verification.FlatOracle

type Tensor = TorchSharp.torch.Tensor
type Generator = TorchSharp.torch.Generator
type ScalarType = TorchSharp.torch.ScalarType


/// Helpers other test files reach through this module (the library's).
let f64 = GraphTensors.f64
let mat = GraphTensors.mat
let mb = GraphTensors.mb
let leavesOf = FlatGraph.leavesOf

// ---------------------------------------------------------------------------------------------------------
// Estimators (the library's, and deliberately broken ones built from the trace)

type Variant =
    /// Surrogate.Build: Σ costs + Σ_s log p(s) · ⊥Q_s.
    | Library
    /// Broken: Σ costs only (the score-function terms dropped).
    | NoScoreTerms
    /// Broken: each score-function site's cost-to-go leaves out the last cost of the program when it is downstream.
    | DropLastCost
    /// Unbiased but noisier: the total cost of the run in place of each site's cost-to-go.
    | TotalCost

let surrogateOf (variant: Variant) (trace: Trace) : Tensor =
    match variant with
    | Library -> Surrogate.Build(trace).Surrogate
    | _ ->
        let k = float trace.ParticleCount
        let costNodes = trace.Costs |> List.ofSeq
        let costs = costNodes |> List.map (fun c -> c.Value.sum()) |> List.reduce (+)
        let scored = trace.Samples |> Seq.filter (fun s -> s.IsScoreFunction) |> List.ofSeq
        let score (signal: SampleNode -> Tensor) = scored |> List.map (fun s -> (s.LogProb * signal s).sum())
        let terms =
            match variant with
            | NoScoreTerms -> []
            | TotalCost ->
                let total = costNodes |> List.map (fun c -> c.Value.detach()) |> List.reduce (+)
                score (fun _ -> total)
            | DropLastCost ->
                let q = CostToGo.Compute(trace, Func<SampleNode, bool>(fun s -> s.IsScoreFunction))
                let last = costNodes |> List.maxBy (fun c -> c.Index)
                score (fun s -> if last.Index > s.Index then q.[s.Name] - last.Value.detach() else q.[s.Name])
            | Library -> failwith "unreachable"
        (List.fold (+) costs terms) / k

/// Gradients of several scalars sharing one graph, w.r.t. the leaves (zeros where a scalar needs no gradient).
let gradsOfMany (scalars: Tensor list) (leaves: Tensor list) =
    let n = scalars.Length
    scalars
    |> List.mapi (fun i s ->
        if not s.requires_grad then Array.zeroCreate<float> leaves.Length
        else
            let gs = torch.autograd.grad([| s |], Array.ofList leaves, retain_graph = (i < n - 1), allow_unused = true)
            [| for (gr, p) in Seq.zip gs leaves -> if isNull gr then 0.0 else gr.to_type(ScalarType.Float64).item<float>() |])

let chunks = 40
let particles = 400

/// M runs of K particles; per run, the gradient of each variant's surrogate (same samples) and the reported cost.
let runChunks (g: Graph) (variants: Variant list) =
    let leaves = leavesOf g
    use gen = new Generator(g.Seed, torch.CPU)
    let mdl = toModel g leaves
    let grads = Array.init variants.Length (fun _ -> Array.zeroCreate<float[]> chunks)
    let costs = Array.zeroCreate<float> chunks
    for r in 0 .. chunks - 1 do
        use scope = torch.NewDisposeScope()
        let run = Interpreter.Sample(mdl, RunOptions(Generator = gen, Particles = particles, MaxPlateNesting = 0))
        costs.[r] <- Surrogate.Build(run.Trace).Cost.item<float>()
        let gs = gradsOfMany [ for v in variants -> surrogateOf v run.Trace ] leaves
        gs |> List.iteri (fun i x -> grads.[i].[r] <- x)
    grads, costs

/// max |z| over coordinates; a coordinate whose mean equals the target to 1e-9 (relative) counts as z = 0 even when
/// its standard error is a rounding-level 1e-17 (a deterministic gradient or cost).
let zOf (samples: float[][]) (target: float[]) =
    let e = Stats.estimate samples
    Array.init target.Length (fun j ->
        let diff = e.Mean.[j] - target.[j]
        if abs diff <= 1e-9 * (1.0 + abs target.[j]) then 0.0
        elif e.StdErr.[j] > 0.0 then abs diff / e.StdErr.[j]
        else infinity)
    |> Array.max

let describe name (samples: float[][]) (target: float[]) (g: Graph) =
    let e = Stats.estimate samples
    sprintf "%s: mean [%s] vs exact [%s] (se [%s]), max |z| = %.2f\n%O"
        name (Stats.fmt e.Mean) (Stats.fmt target) (Stats.fmt e.StdErr) (zOf samples target) g

// ---------------------------------------------------------------------------------------------------------
// Tests

let config =
    { FsCheckConfig.defaultConfig with maxTest = 50; replay = Some (20240611UL, 977UL, None); endSize = 10 }

/// The fixed sample of graphs used by the rejection tests.
let rejectionGraphs =
    lazy (Gen.sampleWithSeed (Rnd(4242UL, 977UL)) 10 120 genGraph)

/// The bias of a broken estimator "matters" when some coordinate is off by more than 0.15 (for scale: the
/// standard errors of the z-test are mostly 0.005–0.05 on these graphs).
let biasMatters (target: float[]) (gstar: float[]) =
    Array.exists2 (fun a b -> abs (a - b) > 0.15) target gstar

let private aff (bias: float) (theta: float[]) (parents: (int * float[]) list) =
    { Out = 1; Bias = [| bias |]; Theta = theta; Parents = parents }

[<Tests>]
let tests =
    testList "RandomScg" [
        test "the oracle reproduces hand-computed closed forms" {
            let sigmoid x = 1.0 / (1.0 + exp -x)
            // x0 ~ Bernoulli(σ(θ0)), cost x0: J = σ(θ0), ∇ = (σ(1 − σ), 0).
            let noCost = aff 0.0 [| 0.0; 0.0 |] []
            let coin =
                { Theta0 = [| 0.3; -0.2 |]; Sites = [| Bern (aff 0.0 [| 1.0; 0.0 |] []) |]; Seed = 1UL
                  Costs = [| { Pos = 1; S = 0.0; Y1 = noCost; Y2 = noCost; Y3 = aff 0.0 [| 0.0; 0.0 |] [ 0, [| 1.0 |] ] } |] }
            let j, gr = trueGradient coin
            let p = sigmoid 0.3
            Expect.floatClose Accuracy.veryHigh j p "J = σ(θ0)"
            Expect.floatClose Accuracy.veryHigh gr.[0] (p * (1.0 - p)) "dJ/dθ0"
            Expect.floatClose Accuracy.veryHigh gr.[1] 0.0 "dJ/dθ1"
            // x0 ~ N(θ0, e^θ1), x1 ~ N(2 x0, 0.5), cost (x1 − 1)²:
            // E x1 = 2θ0, Var x1 = 4 e^(2θ1) + 0.25; J = (2θ0 − 1)² + 4 e^(2θ1) + 0.25.
            let chain =
                { Theta0 = [| 0.4; -0.3 |]; Seed = 1UL
                  Sites = [| Gauss (aff 0.0 [| 1.0; 0.0 |] [], ExpScale (aff 0.0 [| 0.0; 1.0 |] []), false)
                             Gauss (aff 0.0 [| 0.0; 0.0 |] [ 0, [| 2.0 |] ], ConstScale 0.5, true) |]
                  Costs = [| let y = aff -1.0 [| 0.0; 0.0 |] [ 1, [| 1.0 |] ] in { Pos = 2; S = 1.0; Y1 = y; Y2 = y; Y3 = noCost } |] }
            let j, gr = trueGradient chain
            Expect.floatClose Accuracy.veryHigh j ((0.8 - 1.0) ** 2.0 + 4.0 * exp -0.6 + 0.25) "J"
            Expect.floatClose Accuracy.veryHigh gr.[0] (4.0 * (0.8 - 1.0)) "dJ/dθ0"
            Expect.floatClose Accuracy.veryHigh gr.[1] (8.0 * exp -0.6) "dJ/dθ1"
            // x0 ~ Categorical(softmax(θ0 · (1, 0, −1))), cost h[x0] with h = (1, 2, 5).
            let cat =
                { Theta0 = [| 0.7; 0.0 |]; Seed = 1UL
                  Sites = [| Cat { Out = 3; Bias = [| 0.0; 0.0; 0.0 |]; Theta = [| 1.0; 0.0; -1.0; 0.0; 0.0; 0.0 |]; Parents = [] } |]
                  Costs = [| { Pos = 1; S = 0.0; Y1 = noCost; Y2 = noCost; Y3 = aff 0.0 [| 0.0; 0.0 |] [ 0, [| 1.0; 2.0; 5.0 |] ] } |] }
            let j, gr = trueGradient cat
            let w = [| exp 0.7; 1.0; exp -0.7 |]
            let z = Array.sum w
            let e = (w.[0] * 1.0 + w.[1] * 2.0 + w.[2] * 5.0) / z
            // d/dθ0 E[h] = Cov(h, s) with s = (1, 0, −1).
            let es = (w.[0] - w.[2]) / z
            let ehs = (w.[0] * 1.0 - w.[2] * 5.0) / z
            Expect.floatClose Accuracy.veryHigh j e "J"
            Expect.floatClose Accuracy.veryHigh gr.[0] (ehs - e * es) "dJ/dθ0"
        }

        testPropertyWithConfig config "the surrogate's mean gradient matches the exact gradient of random graphs" <|
            Prop.forAll (Arb.fromGen genGraph) (fun g ->
                let _, gstar = trueGradient g
                let grads, _ = runChunks g [ Library ]
                let z = zOf grads.[0] gstar
                if not (z < Stats.zBound) then failtest (describe "library surrogate" grads.[0] gstar g))

        testPropertyWithConfig config "the reported cost averages to the exact objective J(θ)" <|
            Prop.forAll (Arb.fromGen genGraph) (fun g ->
                let j, _ = trueGradient g
                let _, costs = runChunks g []
                let z = zOf (costs |> Array.map (fun c -> [| c |])) [| j |]
                if not (z < Stats.zBound) then
                    failtest (describe "reported cost" (costs |> Array.map (fun c -> [| c |])) [| j |] g))

        test "the harness rejects broken estimators and accepts the unbiased total-cost estimator" {
            // Graphs where the bug moves the expected gradient by more than 0.15 in some coordinate.
            let variants = [ NoScoreTerms; DropLastCost; TotalCost ]
            let results =
                rejectionGraphs.Value
                |> Array.choose (fun g ->
                    let gstar = snd (trueGradient g)
                    let ga, gb = noScoreGradient g, dropLastGradient g
                    if biasMatters ga gstar || biasMatters gb gstar then Some (g, gstar, ga, gb) else None)
                |> Array.truncate 30
                |> Array.map (fun (g, gstar, ga, gb) ->
                    let grads, _ = runChunks g variants
                    g, gstar, ga, gb, grads)
            let rate (pick: (Graph * float[] * float[] * float[] * float[][][]) -> (float[] * float[][]) option) =
                let cases = results |> Array.choose pick
                let rejected = cases |> Array.filter (fun (target, samples) -> zOf samples target >= Stats.zBound)
                float rejected.Length / float cases.Length, cases.Length
            let noScore, nA =
                rate (fun (_, gstar, ga, _, grads) -> if biasMatters ga gstar then Some (gstar, grads.[0]) else None)
            let dropLast, nB =
                rate (fun (_, gstar, _, gb, grads) -> if biasMatters gb gstar then Some (gstar, grads.[1]) else None)
            let total, nC = rate (fun (_, gstar, _, _, grads) -> Some (gstar, grads.[2]))
            printfn "RandomScg rejection rates: no score terms %.0f%% of %d, drop last cost %.0f%% of %d, total cost %.0f%% of %d"
                (100.0 * noScore) nA (100.0 * dropLast) nB (100.0 * total) nC
            Expect.isGreaterThanOrEqual nA 10 "enough graphs where dropping the score terms matters"
            Expect.isGreaterThanOrEqual nB 10 "enough graphs where dropping the last cost matters"
            Expect.isGreaterThanOrEqual noScore 0.8 "dropping the score terms is rejected in at least 80% of the graphs"
            Expect.isGreaterThanOrEqual dropLast 0.8 "leaving a downstream cost out of the cost-to-go is rejected in at least 80%"
            Expect.equal total 0.0 "the total cost in place of the cost-to-go is unbiased: never rejected"
            // Calibration: each broken estimator does estimate its own (exactly computed) expectation, so the
            // rejections above come from the bias, not from a mis-scaled test.
            for (g, _, ga, gb, grads) in results do
                Expect.isLessThan (zOf grads.[0] ga) Stats.zBound (describe "no score terms vs its expectation" grads.[0] ga g)
                Expect.isLessThan (zOf grads.[1] gb) Stats.zBound (describe "drop last cost vs its expectation" grads.[1] gb g)
        }
    ]

