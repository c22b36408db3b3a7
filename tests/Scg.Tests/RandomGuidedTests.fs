/// Random guided programs (RandomGuidedPrograms.fs) against their exact oracle: Guided.Pair's ELBO (plain, analytic KL,
/// sticking the landing), Model.Subsample's full-data ELBO, Iwae.Build's K = 2 bound (plain and VIMCO); and the same
/// harness rejecting a broken estimator of each.
///
/// Statistics. |z| < Stats.zBound = 5 per coordinate (two-sided 2.5e-5 under the null with M = 30 runs, Student's t;
/// less with more runs). z-tests that must pass:
/// ELBO, 9 programs × 3 options × (4 gradient coordinates + 1 cost) = 135, and the no-score calibration ≤ 9 × 4 = 36;
/// subsampling, 6 programs × (1 cost + 4 coordinates) = 30; IWAE, 4 programs × (2 estimators × 4 + 1 bound + 4 for
/// the no-score calibration) = 52. ≤ 253 z-tests: the file's false-alarm rate is below 253 × 2.5e-5 ≈ 6e-3
/// (Bonferroni). All seeds are fixed (the programs' seeds, the runs' generators), so a commit always passes or fails.
module Scg.Tests.RandomGuidedTests

open System
open Expecto
open TorchSharp
open Scg
open Scg.Interpretation
open Scg.Distributions
open Scg.Estimators
open Scg.Objectives
open Scg.Tracing
open Scg.Verification.FlatGraph
open Scg.Verification.FlatOracle
open Scg.Tests.RandomScgTests
open Scg.Verification.PlatedOracle
open Scg.Verification.NaiveSurrogate
open Scg.Verification.GuidedPrograms
open Scg.Verification.GuidedOracle

type private Generator = TorchSharp.torch.Generator

let private runOpts (gen: Generator) (k: int) = RunOptions(Generator = gen, Particles = k, MaxPlateNesting = 1)

/// M runs of K particles of the pair: per run, the gradient of each surrogate built from the trace, and `value`.
let private chunksOf (g: GuidedProgram) (o: PairOptions) (m: int) (k: int) (seed: uint64) (f: Trace -> float * Tensor list) =
    let leaves = guidedLeaves g
    use gen = new Generator(seed, torch.CPU)
    let mdl = pairModel g o leaves
    let results =
        Array.init m (fun _ ->
            use scope = torch.NewDisposeScope()
            let trace = Interpreter.Sample(mdl, runOpts gen k).Trace
            let v, surrogates = f trace
            v, gradsOfMany surrogates leaves)
    results |> Array.map fst, results |> Array.map snd

let private describeG name (samples: float[][]) (target: float[]) (g: GuidedProgram) =
    let e = Stats.estimate samples
    sprintf "%s: mean [%s] vs exact [%s] (se [%s]), max |z| = %.2f\n%O"
        name (Stats.fmt e.Mean) (Stats.fmt target) (Stats.fmt e.StdErr) (zOf samples target) g

let private programs mode (first: int) (n: int) (keep: GuidedProgram -> bool) =
    Seq.initInfinite (fun i -> makeGuided mode (first + i)) |> Seq.filter keep |> Seq.truncate n |> Array.ofSeq

let private hasNormal (g: GuidedProgram) = g.Latents |> Array.exists (fun l -> l.Est = GPath)
let private hasScore (g: GuidedProgram) = g.Latents |> Array.exists (fun l -> match l.Est with GScore _ -> true | _ -> false)
let private sampleAll (l: GLatent) = match l.Est with GEnum -> GScore false | e -> e

let private parentsOf = function
    | Scg.Verification.PlatedProgram.PBern f | Scg.Verification.PlatedProgram.PCat f -> f.PParents |> List.map fst
    | Scg.Verification.PlatedProgram.PGauss (m, s, _) ->
        (m.PParents |> List.map fst) @ (match s with Scg.Verification.PlatedProgram.PExp f -> f.PParents |> List.map fst | Scg.Verification.PlatedProgram.PConst _ -> [])

/// A global latent that reads a plated score-function latent (in the guide or the prior), with plated nodes after
/// it: the pattern "plated site → global node mixing its elements → reopened plate" (docs/design.md, credit across
/// plate openings), where element-wise credit would bias the score terms.
let mixesPlate (g: GuidedProgram) =
    let plated j = not g.Latents.[j].Site.Plates.IsEmpty && (match g.Latents.[j].Est with GScore _ -> true | _ -> false)
    let platedTail = g.Tail |> List.exists (function Scg.Verification.PlatedProgram.PObsN o -> not o.OPlates.IsEmpty | Scg.Verification.PlatedProgram.PCostN c -> not c.CPlates.IsEmpty | _ -> false)
    g.Latents |> Array.exists (fun l ->
        l.Site.Plates.IsEmpty && List.exists plated (parentsOf l.Site.Kind @ parentsOf l.Prior)
        && (platedTail || g.Latents |> Array.exists (fun m -> m.Site.Id > l.Site.Id && not m.Site.Plates.IsEmpty)))

/// The surrogate's mean gradient over all runs.
let private build (t: Trace) = Surrogate.Build(t)

/// log w_k = −(particle k's total cost), from the trace's costs and observations (the particle dim at −2).
let private logWeights (t: Trace) =
    let perParticle (v: Tensor) = if v.dim() >= 2 then v.sum(-1L) else v.sum()
    let total =
        t.Nodes
        |> Seq.choose (fun n ->
            match n with
            | :? CostNode as c -> Some (perParticle c.Value)
            | :? ObserveNode as o -> Some (perParticle (o.LogProb.neg()))
            | _ -> None)
        |> Seq.reduce (+)
    -total.flatten()

/// Six programs, then three with a plated score-function latent read by a global one before the plate reopens.
let private elboPrograms =
    lazy (Array.append (programs ElboMode 100 6 (fun g -> hasNormal g || hasScore g)) (programs ElboMode 200 3 mixesPlate))
let private elboRuns = 30
let private elboParticles = 200
let private iwaeRuns = 300

[<Tests>]
let tests =
    testList "RandomGuided" [
        test "a subsampled plate opened twice in one run, or in a guide and its model, takes one minibatch" {
            // Found by the random subsampling test: each Model.Subsample call drew its own minibatch, so a guide's local
            // latents and the model's data (or two openings of one plate) were different data points.
            let seen = Collections.Generic.List<int64[]>()
            let record (idx: Tensor) = seen.Add(idx.data<int64>().ToArray()); Model.Return(())
            let twice = mb {
                let! _ = Model.Subsample("data", 10L, 3L, fun idx -> record idx)
                let! _ = Model.Subsample("data", 10L, 3L, fun idx -> record idx)
                return () }
            for seed in 1UL .. 5UL do
                seen.Clear()
                Interpreter.Sample(twice, RunOptions(Seed = seed)) |> ignore
                Expect.sequenceEqual seen.[1] seen.[0] (sprintf "seed %d: the same minibatch when the plate is reopened" seed)
                seen.Clear()
                let guide = Model.Subsample("data", 10L, 3L, fun idx -> mb {
                    do! record idx
                    let! _ = Model.Sample("z", Normal(torch.zeros(3L, dtype = ScalarType.Float64), torch.ones(3L, dtype = ScalarType.Float64)))
                    return () })
                let generative = Model.Subsample("data", 10L, 3L, fun idx -> mb {
                    do! record idx
                    let! _ = Model.Sample("z", Normal(torch.zeros(3L, dtype = ScalarType.Float64), torch.ones(3L, dtype = ScalarType.Float64)))
                    return () })
                Interpreter.Sample(Guided.Pair(guide, generative), RunOptions(Seed = seed)) |> ignore
                Expect.sequenceEqual seen.[1] seen.[0] (sprintf "seed %d: the model's minibatch is the guide's" seed)
            let other = mb {
                let! _ = Model.Subsample("data", 10L, 3L, fun idx -> Model.Return(()))
                let! _ = Model.Subsample("data", 10L, 4L, fun idx -> Model.Return(()))
                return () }
            ErrorTests.throwsMentioning [ "'data'"; "10"; "4" ] (fun () -> Interpreter.Sample(other) |> ignore)
        }

        test "the oracle reproduces a hand-computed guided ELBO" {
            // one global Bernoulli latent, q = Bern(σ(θ0)), p = Bern(σ(θ2)), x = 0.5 ~ N(y, 1)
            let f (b: float) (th: float[]) : Scg.Verification.PlatedProgram.PForm = { POut = 1; PBias = [| b |]; PTheta = th; PParents = [] }
            let site : Scg.Verification.PlatedProgram.PSite = { Id = 0; Kind = Scg.Verification.PlatedProgram.PBern (f 0.0 [| 1.0; 0.0; 0.0; 0.0 |]); Extra = Scg.Verification.PlatedProgram.NoExtra; Offsets = [| 0.0 |]; Plates = [] }
            let mean = { (f 0.0 [| 0.0; 0.0; 0.0; 0.0 |]) with PParents = [ 0, [| 1.0 |] ] }
            let o : Scg.Verification.PlatedProgram.PObs =
                { OId = 1; OPlates = []; Mean = mean; OScale = Scg.Verification.PlatedProgram.PConst 1.0
                  OExtra = Scg.Verification.PlatedProgram.NoExtra; OOffsets = [| 0.0 |]; X = [| 0.5 |] }
            let obs = Scg.Verification.PlatedProgram.PObsN o
            let g = { Theta0 = [| 0.3; 0.0; -0.4; 0.0 |]; Plate = { Name = "i"; Size = 2; Dim = -1 }; Batch = None
                      Latents = [| { Site = site; Est = GEnum; Prior = Scg.Verification.PlatedProgram.PBern (f 0.0 [| 0.0; 0.0; 1.0; 0.0 |]) } |]
                      Tail = [ obs ]; Seed = 1UL }
            let sg x = 1.0 / (1.0 + exp -x)
            let q, p = sg 0.3, sg -0.4
            let nll y = 0.5 * log (2.0 * Math.PI) + 0.5 * (0.5 - y) ** 2.0
            let expected = q * (log q - log p + nll 1.0) + (1.0 - q) * (log (1.0 - q) - log (1.0 - p) + nll 0.0)
            let j, _ = exactG g negElbo
            Expect.floatClose Accuracy.veryHigh j expected "−ELBO"
            // and Scg with the latent enumerated is exact
            let leaves = guidedLeaves g
            let s = Surrogate.Build(Interpreter.Sample(pairModel g defaultPair leaves, RunOptions(Seed = 1UL, MaxPlateNesting = 1)).Trace)
            Expect.floatClose Accuracy.veryHigh (s.Cost.item<float>()) expected "enumerated cost"
        }

        test "ELBO: Surrogate.Build of a guided run is unbiased (plain, analytic KL, sticking the landing), its cost is −ELBO; dropping the guide's score terms is rejected" {
            let mutable visible, rejected = 0, 0
            let failures =
                [ for g in elboPrograms.Value do
                    let j, gstar = exactG g negElbo
                    // the broken estimator (no score terms) from the plain runs' traces, where no site is enumerated
                    let sampled = g.Latents |> Array.forall (fun l -> l.Est <> GEnum)
                    let broken = snd (exactG g negElboNoScore)
                    for (name, o) in [ "plain", defaultPair; "analytic KL", { defaultPair with AnalyticKl = true }; "STL", { defaultPair with Stl = true } ] do
                        let withBroken = sampled && name = "plain"
                        let costs, grads =
                            chunksOf g o elboRuns elboParticles (g.Seed + 1UL) (fun t ->
                                let s = build t
                                s.Cost.item<float>(), (if withBroken then [ s.Surrogate; naiveSurrogate t None ] else [ s.Surrogate ]))
                        let good = grads |> Array.map List.head
                        if not (zOf good gstar < Stats.zBound) then yield describeG (name + " gradient") good gstar g
                        let cs = costs |> Array.map (fun c -> [| c |])
                        if not (zOf cs [| j |] < Stats.zBound) then yield describeG (name + " cost") cs [| j |] g
                        if withBroken then
                            let bad = grads |> Array.map (fun l -> l.[1])
                            if not (zOf bad broken < Stats.zBound) then yield describeG "no score terms vs its own expectation" bad broken g
                            let se = (Stats.estimate bad).StdErr
                            if Array.exists2 (fun (a, b) s -> abs (a - b) > 0.1 && abs (a - b) > 8.0 * s) (Array.zip broken gstar) se then
                                visible <- visible + 1
                                if zOf bad gstar >= Stats.zBound then rejected <- rejected + 1 ]
            if not failures.IsEmpty then failtestf "%d failure(s):\n%s" failures.Length (String.Join("\n\n", failures))
            printfn "RandomGuided: no score terms rejected in %d of %d programs where the bias is visible" rejected visible
            let mixing = elboPrograms.Value |> Array.filter mixesPlate |> Array.length
            printfn "RandomGuided: %d of %d ELBO programs mix a plate's elements in a global latent before a reopened plate" mixing elboPrograms.Value.Length
            Expect.isGreaterThanOrEqual mixing 3 "programs with a global latent reading a plated one, then the plate reopened"
            let standard = elboPrograms.Value |> Array.filter (fun g -> g.Latents |> Array.exists (fun l -> isStandardPrior l.Prior)) |> Array.length
            printfn "RandomGuided: %d of %d ELBO programs have a Normal.Standard prior" standard elboPrograms.Value.Length
            Expect.isGreaterThanOrEqual standard 1 "programs whose model runs a Normal latent's prior as Normal.Standard"
            Expect.isGreaterThanOrEqual visible 3 "enough programs where the score terms matter"
            Expect.isGreaterThanOrEqual (float rejected) (0.8 * float visible) "the broken estimator is rejected in at least 80%"
        }

        test "subsampling: the minibatch cost and gradient are unbiased for the full-data ELBO; forgetting N / B is rejected" {
            let gs = programs SubsampleMode 500 6 (fun _ -> true)
            let failures, rejected =
                gs
                |> Array.map (fun g ->
                    let j, gstar = exactG g negElbo
                    let target = Array.append [| j |] gstar
                    let run o seed =
                        let costs, grads = chunksOf g o 30 20 seed (fun t -> let s = build t in s.Cost.item<float>(), [ s.Surrogate ])
                        Array.map2 (fun c (gr: float[] list) -> Array.append [| c |] gr.Head) costs grads
                    let good = run defaultPair (g.Seed + 3UL)
                    let bad = run { defaultPair with ForgetScale = true } (g.Seed + 3UL)
                    (if zOf good target < Stats.zBound then None else Some (describeG "subsampled [cost, gradient]" good target g)),
                    zOf bad target >= Stats.zBound)
                |> Array.unzip
            let failures = failures |> Array.choose id
            if failures.Length > 0 then failtestf "%s" (String.Join("\n\n", failures))
            let n = rejected |> Array.filter id |> Array.length
            printfn "RandomGuided: forgetting the N / B scale rejected in %d of %d programs" n gs.Length
            Expect.isGreaterThanOrEqual (float n) (0.8 * float gs.Length) "the unscaled minibatch is rejected in at least 80%"
        }

        test "IWAE (K = 2): plain and VIMCO gradients are unbiased, the bound's mean is exact; dropping the score signal is rejected" {
            let gs = programs IwaeMode 700 4 hasScore
            let mutable visible, rejected = 0, 0
            let failures =
                [ for g in gs do
                    let j, gstar = exactG g negIwae2
                    let surrogates (t: Trace) =
                        let lw = logWeights t
                        let mine = lw.logsumexp(0L) - log 2.0
                        let plain = Iwae.Build(t)
                        let bound = plain.Bound.item<float>()
                        if abs (mine.item<float>() - bound) > 1e-9 then failwithf "log weights disagree with Iwae.Build's"
                        bound, [ plain.Surrogate; Iwae.Build(t, true).Surrogate; -mine ]
                    let bounds, grads = chunksOf g defaultPair iwaeRuns 2 (g.Seed + 4UL) surrogates
                    for (i, name) in [ 0, "plain"; 1, "VIMCO" ] do
                        let s = grads |> Array.map (fun l -> l.[i])
                        if not (zOf s gstar < Stats.zBound) then yield describeG name s gstar g
                    let bs = bounds |> Array.map (fun b -> [| -b |])
                    if not (zOf bs [| j |] < Stats.zBound) then yield describeG "−bound" bs [| j |] g
                    let bad = grads |> Array.map (fun l -> l.[2])
                    let broken = snd (exactG g negIwae2NoScore)
                    if not (zOf bad broken < Stats.zBound) then yield describeG "no score signal vs its own expectation" bad broken g
                    let se = (Stats.estimate bad).StdErr
                    if Array.exists2 (fun (a, b) s -> abs (a - b) > 0.1 && abs (a - b) > 8.0 * s) (Array.zip broken gstar) se then
                        visible <- visible + 1
                        if zOf bad gstar >= Stats.zBound then rejected <- rejected + 1 ]
            if not failures.IsEmpty then failtestf "%d failure(s):\n%s" failures.Length (String.Join("\n\n", failures))
            printfn "RandomGuided: IWAE without score signal rejected in %d of %d programs where the bias is visible" rejected visible
            Expect.isGreaterThanOrEqual visible 2 "enough programs where the score signal matters"
            Expect.isGreaterThanOrEqual (float rejected) (0.8 * float visible) "the broken estimator is rejected in at least 80%"
        }
    ]


