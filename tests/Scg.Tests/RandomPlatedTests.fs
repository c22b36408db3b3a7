/// The random plated property tests: both surrogate constructions against the naive reference and the exact
/// oracle, with and without particles, and the rejection of broken estimators. The generator
/// (Scg.Verification.PlatedProgram, PlatedModel), the oracle (PlatedOracle) and the naive reference
/// (NaiveSurrogate) live in the library src/Scg.Verification.FsCheck; overview in tests/README.md.
///
/// Statistics. As RandomScg: |z| < Stats.zBound = 5 per coordinate (two-sided 1.25e-5 under the null with M = 40
/// runs, Student's t). Under the
/// null this file runs: the particle z-test (M = 40 runs × K = 400 particles), 40 graphs × (2 constructions ×
/// ≤ 3 coordinates + 1 cost) = 280; the K = 0 z-test (600 independent runs), 10 small graphs × (2 × 3 + 1) =
/// 70; the rejection test, the total-cost estimator ≤ 30 × 3 and the calibration of the three broken estimators
/// against their own exact expectations ≤ 30 × 3 × 3, 360. That is ≤ 710 z-tests: the file's false-alarm rate
/// is below 710 × 1.25e-5 ≈ 9e-3 (Bonferroni). The comparisons with the naive reference are deterministic (float64,
/// tolerance 1e-9 relative) and have no false alarms.
/// All seeds are fixed: FsCheck's replay seed, the programs' seeds (drawn by the generator), the sample of
/// programs used by the rejection and K = 0 tests.
module Scg.Tests.RandomPlatedTests

open System
open System.Collections.Generic
open Expecto
open FsCheck
open FsCheck.FSharp
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Estimators
open Scg.Tracing
open Scg.Verification.FlatGraph
open Scg.Verification.FlatOracle
open Scg.Tests.RandomScgTests

type Tensor = TorchSharp.torch.Tensor
type Generator = TorchSharp.torch.Generator
type ScalarType = TorchSharp.torch.ScalarType
open Scg.Verification.PlatedProgram
open Scg.Verification.PlatedModel
open Scg.Verification.PlatedOracle
open Scg.Verification.NaiveSurrogate
open Scg.Tests.RandomPlatedBaselines
// ---------------------------------------------------------------------------------------------------------
// Estimators

type PVariant =
    /// Surrogate.Build, default (vectorised) construction.
    | Vectorised
    /// Surrogate.Build with Vectorize = false (one cost-to-go per site).
    | PerSite
    /// The naive reference.
    | Naive
    /// Broken: no score terms.
    | NoScore
    /// Broken: the last cost or observation in program order left out of every cost-to-go.
    | DropLast
    /// Broken: a cost credits no site in a plate the cost is not in (plate-blind).
    | PlateBlind
    /// Unbiased, noisier: every cost-like node credits every site, reduced to the site's plates.
    | TotalCost

let lastCostName (trace: Trace) = (costNodes trace |> List.maxBy (fun c -> c.Index)).Name

let platedSurrogate (variant: PVariant) (trace: Trace) =
    let down = downstream trace
    match variant with
    | Vectorised -> Surrogate.Build(trace).Surrogate
    | PerSite -> Surrogate.Build(trace, SurrogateOptions(Vectorize = false)).Surrogate
    | Naive -> naiveSurrogate trace (Some down)
    | NoScore -> naiveSurrogate trace None
    | DropLast ->
        let last = lastCostName trace
        naiveSurrogate trace (Some (fun s c -> down s c && c.Name <> last))
    | PlateBlind ->
        let inside (s: SampleNode) (c: TraceNode) = s.Plates |> Seq.forall (fun p -> c.Plates |> Seq.exists (fun q -> q.Name = p.Name))
        naiveSurrogate trace (Some (fun s c -> down s c && inside s c))
    | TotalCost -> naiveSurrogate trace (Some (fun _ _ -> true))

let runOptions (gen: Generator) (k: int) (nesting: int) =
    RunOptions(Generator = gen, Particles = k, MaxPlateNesting = nesting)

let rejectionSample = 150
let rejectionGraphsMax = 30
let singlesGraphs = 10
let singlesRuns = 600
let pChunks = 40
let pParticles = 400

/// M runs of K = 400 particles; per run, each variant's gradient (same samples) and the reported costs of both
/// constructions.
let runPlatedChunks (g: Program) (variants: PVariant list) =
    let leaves = platedLeaves g
    use gen = new Generator(g.Seed, torch.CPU)
    let nesting = neededNesting g
    let mdl = toPlatedModel g pParticles nesting leaves
    let grads = Array.init variants.Length (fun _ -> Array.zeroCreate<float[]> pChunks)
    let costs = Array.zeroCreate<float[]> pChunks
    for r in 0 .. pChunks - 1 do
        use scope = torch.NewDisposeScope()
        let run = Interpreter.Sample(mdl, runOptions gen pParticles nesting)
        costs.[r] <- [| Surrogate.Build(run.Trace).Cost.item<float>()
                        Surrogate.Build(run.Trace, SurrogateOptions(Vectorize = false)).Cost.item<float>() |]
        let gs = gradsOfMany [ for v in variants -> platedSurrogate v run.Trace ] leaves
        gs |> List.iteri (fun i x -> grads.[i].[r] <- x)
    grads, costs

let describeP name (samples: float[][]) (target: float[]) (g: Program) =
    let e = Stats.estimate samples
    sprintf "%s: mean [%s] vs exact [%s] (se [%s]), max |z| = %.2f\n%O"
        name (Stats.fmt e.Mean) (Stats.fmt target) (Stats.fmt e.StdErr) (zOf samples target) g

// ---------------------------------------------------------------------------------------------------------
// Deterministic comparison with the naive reference

let close (a: float) (b: float) = abs (a - b) <= 1e-9 * (1.0 + max (abs a) (abs b))

/// Runs the program once with K particles (K ∈ {0, 1, 3} from the seed) and compares, in value and gradient,
/// both constructions of Surrogate.Build with the naive reference, and CostToGo.Compute with the naive Q_s.
/// Returns the list of disagreements (empty when all agree).
let compareWithNaive (g: Program) =
    use scope = torch.NewDisposeScope()
    let k = [| 0; 1; 3 |].[int (g.Seed % 3UL)]
    let leaves = platedLeaves g
    use gen = new Generator(g.Seed, torch.CPU)
    let nesting = neededNesting g + int (g.Seed / 3UL % 2UL)
    let run = Interpreter.Sample(toPlatedModel g k nesting leaves, runOptions gen k nesting)
    let trace = run.Trace
    let problems = List<string>()
    let naive = platedSurrogate Naive trace
    let naiveV, naiveG = naive.item<float>(), Stats.gradOf naive leaves
    for v in [ Vectorised; PerSite ] do
        let got =
            try Ok (platedSurrogate v trace)
            with e -> Error (e.Message.Split('\n').[0])
        match got with
        | Error msg -> problems.Add(sprintf "%A (K = %d) throws: %s" v k msg)
        | Ok s ->
            let sv, sg = s.item<float>(), Stats.gradOf s leaves
            if not (close sv naiveV) then problems.Add(sprintf "%A (K = %d): value %.12g vs naive %.12g" v k sv naiveV)
            if not (Array.forall2 close sg naiveG) then
                problems.Add(sprintf "%A (K = %d): gradient [%s] vs naive [%s]" v k (Stats.fmt sg) (Stats.fmt naiveG))
    let q =
        try Ok (CostToGo.Compute(trace, Func<SampleNode, bool>(fun s -> s.IsScoreFunction)))
        with e -> Error (e.Message.Split('\n').[0])
    match q with
    | Error msg -> problems.Add(sprintf "CostToGo.Compute (K = %d) throws: %s" k msg)
    | Ok q ->
        for s in trace.Samples do
            if s.IsScoreFunction then
                let mine = naiveQ trace (downstream trace) s
                let lib = q.[s.Name]
                let r = lib.shape.Length
                let lib =
                    if r > mine.shape.Length && lib.shape.[.. r - mine.shape.Length - 1] |> Array.forall ((=) 1L)
                    then lib.reshape(lib.shape.[r - mine.shape.Length ..]) else lib
                if lib.shape <> mine.shape then
                    problems.Add(sprintf "CostToGo of %s (K = %d): shape %A vs naive %A" s.Name k lib.shape mine.shape)
                else
                    let a = lib.flatten().data<float>().ToArray()
                    let b = mine.contiguous().flatten().data<float>().ToArray()
                    if not (Array.forall2 close a b) then
                        problems.Add(sprintf "CostToGo of %s (K = %d): [%s] vs naive [%s]" s.Name k (Stats.fmt a) (Stats.fmt b))
    List.ofSeq problems

// ---------------------------------------------------------------------------------------------------------
// Tests

let platedConfig n =
    { FsCheckConfig.defaultConfig with maxTest = n; replay = Some (20250611UL, 4049UL, None); endSize = 10 }

/// A program with a score-function site and costs at two or more plate depths (where credit across depths matters).
let mixedDepths (g: Program) =
    let depths =
        allNodes g.Body
        |> List.choose (function PCostN c -> Some c.CPlates.Length | PObsN o -> Some o.OPlates.Length | _ -> None)
        |> List.distinct
    let scored = g.Sites |> Array.exists (fun s -> match s.Kind with PGauss (_, _, sf) -> sf | _ -> true)
    scored && depths.Length >= 2

/// Fixed samples of programs for the K = 0 z-test and the rejection test.
let platedSample seed n = Gen.sampleWithSeed (Rnd(seed, 4049UL)) 10 n genProgram

/// The issue-7 example: a, b ~ Bernoulli global; c1 = a + 1 in plate p[3]; c2 = b + 2 in p[3] × q[2].
let issueExample =
    let p = { Name = "p"; Size = 3; Dim = -1 }
    let q = { Name = "q"; Size = 2; Dim = -2 }
    let form (n: int) (bias: float) (theta: float[]) (parents: (int * float[]) list) : PForm =
        { POut = 1; PBias = Array.create n bias; PTheta = theta; PParents = parents }
    let zero n = form n 0.0 [| 0.0; 0.0 |] []
    let a = { Id = 0; Kind = PBern (form 1 0.0 [| 1.0; 0.0 |] []); Extra = NoExtra; Offsets = [| 0.0 |]; Plates = [] }
    let b = { Id = 1; Kind = PBern (form 1 0.0 [| 0.0; 1.0 |] []); Extra = NoExtra; Offsets = [| 0.0 |]; Plates = [] }
    let c1 = { CId = 0; CPlates = [ p ]; S = 0.0; Y1 = zero 3; Y2 = zero 3; Y3 = form 3 1.0 [| 0.0; 0.0 |] [ 0, [| 1.0 |] ] }
    let c2 = { CId = 1; CPlates = [ p; q ]; S = 0.0; Y1 = zero 6; Y2 = zero 6; Y3 = form 6 2.0 [| 0.0; 0.0 |] [ 1, [| 1.0 |] ] }
    { Theta0 = [| 0.3; -0.2 |]; Sites = [| a; b |]; Seed = 7UL
      Body = [ PSiteN a; PSiteN b; PPlate (p, false, [ PCostN c1 ]); PPlate (p, false, [ PPlate (q, false, [ PCostN c2 ]) ]) ] }

[<Tests>]
let tests =
    testList "RandomPlated" [
        test "the unrolled oracle reproduces the issue-7 closed form" {
            let sigmoid x = 1.0 / (1.0 + exp -x)
            let g = issueExample
            let j, gr = platedTruth g (unroll g)
            let s1, s2 = sigmoid 0.3, sigmoid -0.2
            Expect.floatClose Accuracy.veryHigh j (3.0 * (s1 + 1.0) + 6.0 * (s2 + 2.0)) "J"
            Expect.floatClose Accuracy.veryHigh gr.[0] (3.0 * s1 * (1.0 - s1)) "dJ/dθ0"
            Expect.floatClose Accuracy.veryHigh gr.[1] (6.0 * s2 * (1.0 - s2)) "dJ/dθ1"
        }

        testPropertyWithConfig (platedConfig 500) "both surrogate constructions and CostToGo agree with the naive reference to 1e-9" <|
            Prop.forAll (Arb.fromGen genProgram) (fun g ->
                match compareWithNaive g with
                | [] -> ()
                | problems -> failtestf "%s\n%O" (String.Join("\n", problems)) g)

        testPropertyWithConfig (platedConfig 40) "with particles and random baselines, both constructions' mean gradients and reported costs match the oracle" <|
            Prop.forAll (Arb.fromGen genProgram) (fun g ->
                let j, gstar = platedTruth g (unroll g)
                let grads, costs, plan = runWithBaselines g pParticles pChunks g.Seed
                let name what = sprintf "%s, %s" what (describePlan plan)
                for (i, what) in [ 0, "vectorised"; 1, "per-site" ] do
                    if not (zOf grads.[i] gstar < Stats.zBound) then failtest (describeP (name what) grads.[i] gstar g)
                let cs = costs |> Array.map (fun c -> [| c.[0] |])
                if not (zOf cs [| j |] < Stats.zBound) then failtest (describeP (name "reported cost") cs [| j |] g))

        test "without particles (K = 0) and with random baselines, both constructions' mean gradients over runs match the oracle" {
            // Every graph and construction is checked before failing, so that a failure says which construction.
            let failures =
                // small programs (≤ 12 flat sites) keep the single runs cheap
                let small (g: Program) = (unroll g).Flat.Sites.Length <= 12
                [ for g in platedSample 515UL 200 |> Array.filter (fun g -> mixedDepths g && small g) |> Array.truncate singlesGraphs do
                    let j, gstar = platedTruth g (unroll g)
                    let grads, costs, plan = runWithBaselines g 0 singlesRuns (g.Seed + 17UL)
                    let name what = sprintf "%s (K = 0), %s" what (describePlan plan)
                    for (i, what) in [ 0, "vectorised"; 1, "per-site" ] do
                        if not (zOf grads.[i] gstar < Stats.zBound) then yield describeP (name what) grads.[i] gstar g
                    let cs = costs |> Array.map (fun c -> [| c.[0] |])
                    if not (zOf cs [| j |] < Stats.zBound) then yield describeP (name "reported cost") cs [| j |] g ]
            if not failures.IsEmpty then
                failtestf "%d failure(s) in %d graphs:\n%s" failures.Length singlesGraphs (String.Join("\n\n", failures))
        }

        test "the harness rejects broken estimators on plated graphs and accepts the total-cost estimator" {
            let variants = [ NoScore; DropLast; PlateBlind; TotalCost ]
            let lastName (g: Program) =
                // the last cost-like node in program order: costNames lists them in program order
                costNames g |> List.last
            let results =
                platedSample 4243UL rejectionSample
                |> Array.choose (fun g ->
                    let u = unroll g
                    let gstar = snd (platedTruth g u)
                    let ga, gb, gc = noScoreExpect g u, dropLastExpect g u gstar (lastName g), plateBlindExpect g u gstar
                    if biasMatters ga gstar || biasMatters gb gstar || biasMatters gc gstar then Some (g, gstar, [| ga; gb; gc |]) else None)
                |> Array.truncate rejectionGraphsMax
                |> Array.map (fun (g, gstar, expects) ->
                    let grads, _ = runPlatedChunks g variants
                    g, gstar, expects, grads)
            // A bias "matters" when it exceeds 0.15 and 8 standard errors of the estimator in some coordinate: plated
            // graphs sum many elements, so some are too noisy for 40 × 400 particles to see a bias of 0.15.
            let visible (target: float[]) (gstar: float[]) (samples: float[][]) =
                let se = (Stats.estimate samples).StdErr
                Array.exists2 (fun (a, b) s -> abs (a - b) > 0.15 && abs (a - b) > 8.0 * s) (Array.zip target gstar) se
            let rate (i: int) =
                let cases = results |> Array.filter (fun (_, gstar, ex, grads) -> visible ex.[i] gstar grads.[i])
                let rejected = cases |> Array.filter (fun (_, gstar, _, grads) -> zOf grads.[i] gstar >= Stats.zBound)
                float rejected.Length / float (max 1 cases.Length), cases.Length
            let noScore, nA = rate 0
            let dropLast, nB = rate 1
            let blind, nC = rate 2
            let total =
                results |> Array.filter (fun (_, gstar, _, grads) -> zOf grads.[3] gstar >= Stats.zBound) |> Array.length
            printfn "RandomPlated rejection rates: no score terms %.0f%% of %d, drop last cost %.0f%% of %d, plate-blind %.0f%% of %d, total cost rejected %d of %d"
                (100.0 * noScore) nA (100.0 * dropLast) nB (100.0 * blind) nC total results.Length
            let calibration =
                [ for (g, _, expects, grads) in results do
                    for (i, name) in [ 0, "no score terms"; 1, "drop last cost"; 2, "plate-blind" ] do
                        if not (zOf grads.[i] expects.[i] < Stats.zBound) then
                            yield describeP (name + " vs its expectation") grads.[i] expects.[i] g ]
            Expect.isEmpty calibration "each broken estimator estimates its own exactly computed expectation"
            Expect.isGreaterThanOrEqual nA 10 "enough graphs where dropping the score terms matters"
            Expect.isGreaterThanOrEqual nB 8 "enough graphs where dropping the last cost matters"
            Expect.isGreaterThanOrEqual nC 8 "enough graphs where plate-blind credit matters"
            Expect.isGreaterThanOrEqual noScore 0.8 "dropping the score terms is rejected in at least 80% of the graphs"
            Expect.isGreaterThanOrEqual dropLast 0.8 "leaving a downstream cost out is rejected in at least 80%"
            Expect.isGreaterThanOrEqual blind 0.8 "plate-blind credit is rejected in at least 80%"
            Expect.equal total 0 "the total cost in place of the cost-to-go is unbiased: never rejected"
        }
    ]
