/// Exact enumeration on the random plated programs (PlatedProgram.fs) against the exact oracle
/// (RandomPlatedOracle.fs).
///
/// Which sites can be enumerated. The library refuses (by design, with an error naming the site) enumeration of a
/// site with a batch dimension no plate accounts for (the generator's extra BatchDim), and of a plated site with a
/// node downstream of it (later in program order, not in a sibling body of a product) outside one of its plates. `enumerable` states
/// these rules; a program may enumerate exactly its discrete sites that satisfy them, inside products too.
///
/// Exact test. Programs drawn by the generator where every site is discrete and enumerable are rare (Normal sites,
/// products and trailing global costs are common), so the test also takes the generator's programs through
/// `discretise`: every Normal site becomes a Bernoulli with its mean form as logit, and extra batch dimensions of
/// sites are dropped (products stay products). The programs kept are those whose every site is then enumerable and whose discrete elements fit the
/// oracle (≤ 12 binary digits). With every site enumerated nothing is random: for K ∈ {0, 1, 3} particles (and
/// MaxPlateNesting at or one above the need), Surrogate.Build's reported cost and gradient, and Dice.Build's value
/// and gradient, equal J and g* to 1e-9 relative (float64). Deterministic: no false alarms.
///
/// Mixed test. Programs as generated (products included), with some enumerable discrete site
/// and some site left sampled, half of them with an enumerated site in a plate: a random non-empty subset of the
/// enumerable sites is enumerated, every other site keeps its estimator (score function or pathwise). M = 40
/// runs × K = 400 particles; z-tests of the mean gradient of Surrogate.Build and of Dice.Build from the same
/// traces, and of the mean reported cost, against the oracle: |z| < Stats.zBound = 5. (With enumerated sites
/// Surrogate.Build has one construction: SurrogateOptions.Vectorize does not apply.)
/// 14 graphs × (2 × ≤ 3 coordinates + 1 cost) ≤ 98 z-tests, false-alarm rate < 98 × 1.25e-5 ≈ 1.2e-3
/// (M = 40 runs: Student's t with 39 degrees of freedom).
module Scg.Tests.RandomPlatedEnumTests

open System
open System.Collections.Generic
open Expecto
open FsCheck
open FsCheck.FSharp
open TorchSharp
open Scg
open Scg.Interpretation
open Scg.Estimators
open Scg.Verification.FlatGraph
open Scg.Verification.FlatOracle
open Scg.Tests.RandomScgTests
open Scg.Verification.PlatedProgram
open Scg.Verification.PlatedModel
open Scg.Verification.PlatedOracle
open Scg.Verification.NaiveSurrogate
open Scg.Verification.PlatedTransforms

type private Generator = TorchSharp.torch.Generator

let sample seed n = Gen.sampleWithSeed (Rnd(seed, 4049UL)) 10 n genProgram

let private close (a: float) (b: float) = abs (a - b) <= 1e-9 * (1.0 + max (abs a) (abs b))

/// The model of g with the sites in `enumerated` enumerated, the others with the estimators g chooses.
let modelWith (enumerated: Set<int>) g k nesting leaves =
    toPlatedModelWith (fun s est -> if enumerated.Contains s.Id then SiteEstimator.Enumerate else est) g k nesting leaves

let private firstLine (e: exn) = e.Message.Split('\n').[0]

/// Every site enumerated, K ∈ {0, 1, 3}: the disagreements with the oracle (empty when all agree).
let exactProblems (g: Program) =
    let j, gstar = platedTruth g (unroll g)
    let all = g.Sites |> Array.map (fun s -> s.Id) |> Set.ofArray
    [ for k in [ 0; 1; 3 ] do
        use scope = torch.NewDisposeScope()
        let leaves = platedLeaves g
        let nesting = neededNesting g + int ((g.Seed + uint64 k) % 2UL)
        use gen = new Generator(g.Seed, torch.CPU)
        let check (what: string) (value: unit -> float) (surrogate: unit -> Tensor) =
            [ match (try Ok (value (), Stats.gradOf (surrogate ()) leaves) with e -> Error (firstLine e)) with
              | Error msg -> yield sprintf "%s (K = %d) throws: %s" what k msg
              | Ok (v, gr) ->
                  if not (close v j) then yield sprintf "%s (K = %d): value %.12g vs J = %.12g" what k v j
                  if not (Array.forall2 close gr gstar) then
                      yield sprintf "%s (K = %d): gradient [%s] vs g* [%s]" what k (Stats.fmt gr) (Stats.fmt gstar) ]
        match (try Ok (Interpreter.Sample(modelWith all g k nesting leaves, RunOptions(Generator = gen, Particles = k, MaxPlateNesting = nesting)))
               with e -> Error (firstLine e)) with
        | Error msg -> yield sprintf "the run (K = %d, MaxPlateNesting = %d) throws: %s" k nesting msg
        | Ok run ->
            let trace = run.Trace
            let built = lazy (Surrogate.Build(trace))
            let dice = lazy (Dice.Build(trace))
            yield! check "Surrogate.Build" (fun () -> built.Value.Cost.item<float>()) (fun () -> built.Value.Surrogate)
            yield! check "Dice.Build" (fun () -> dice.Value.Surrogate.item<float>()) (fun () -> dice.Value.Surrogate)
            yield! check "Dice.Build's cost" (fun () -> dice.Value.Cost.item<float>()) (fun () -> dice.Value.Surrogate) ]

let private mChunks = 40
let private mParticles = 400
let private mixedGraphs = 14

/// The enumerable sites a mixed run enumerates: a random non-empty subset (from the program's seed).
let mixedChoice (g: Program) =
    let rnd = Random(int (g.Seed % 1000003UL))
    let candidates = g.Sites |> Array.filter (enumerable g) |> Array.map (fun s -> s.Id)
    if candidates.Length = 0 then Set.empty
    else
        let chosen = candidates |> Array.filter (fun _ -> rnd.NextDouble() < 0.6)
        Set.ofArray (if chosen.Length = 0 then [| candidates.[rnd.Next(candidates.Length)] |] else chosen)

/// M runs of K = 400 particles with `enumerated` enumerated: per run, the gradients of Surrogate.Build and
/// Dice.Build from the same trace, and the reported cost.
let private runMixed (g: Program) (enumerated: Set<int>) =
    let leaves = platedLeaves g
    use gen = new Generator(g.Seed, torch.CPU)
    let nesting = neededNesting g
    let mdl = modelWith enumerated g mParticles nesting leaves
    let grads = Array.init 2 (fun _ -> Array.zeroCreate<float[]> mChunks)
    let costs = Array.zeroCreate<float[]> mChunks
    for r in 0 .. mChunks - 1 do
        use scope = torch.NewDisposeScope()
        let trace = Interpreter.Sample(mdl, RunOptions(Generator = gen, Particles = mParticles, MaxPlateNesting = nesting)).Trace
        let built = Surrogate.Build(trace)
        costs.[r] <- [| built.Cost.item<float>() |]
        let surrogates =
            [ built.Surrogate; Dice.Build(trace).Surrogate ]
        gradsOfMany surrogates leaves |> List.iteri (fun i x -> grads.[i].[r] <- x)
    grads, costs

let private describe name (samples: float[][]) (target: float[]) (enumerated: Set<int>) (g: Program) =
    let e = Stats.estimate samples
    sprintf "%s (enumerated: %s): mean [%s] vs exact [%s] (se [%s]), max |z| = %.2f\n%O"
        name (String.Join(", ", enumerated |> Seq.map (sprintf "x%d"))) (Stats.fmt e.Mean) (Stats.fmt target)
        (Stats.fmt e.StdErr) (zOf samples target) g

[<Tests>]
let tests =
    testList "RandomPlatedEnum" [
        test "every site enumerated: Surrogate.Build's cost and gradient and Dice.Build's value and gradient equal the oracle to 1e-9 (K = 0, 1, 3)" {
            let drawn = sample 9091UL 400
            let asDrawn = drawn |> Array.filter (fun g -> allEnumerable g && discreteBits g <= 12.0)
            let made =
                drawn
                |> Array.filter (fun g -> not (allEnumerable g))
                |> Array.map discretise
                |> Array.filter (fun g -> allEnumerable g && discreteBits g <= 12.0)
            let programs = Array.append asDrawn made
            let sites = programs |> Array.collect (fun g -> g.Sites)
            let dependent =
                programs |> Array.filter (fun g -> g.Sites |> Array.exists (fun s -> match s.Kind with PBern f | PCat f -> not f.PParents.IsEmpty | _ -> false))
            let withProducts = programs |> Array.filter hasZip
            printfn "RandomPlatedEnum exact: %d of %d generated programs qualify as drawn, %d more after discretise; %d sites (%d in plates, %d Categorical), %d programs with a site reading an enumerated one, %d with an independent product"
                asDrawn.Length drawn.Length made.Length sites.Length (sites |> Array.filter (fun s -> not s.Plates.IsEmpty) |> Array.length)
                (sites |> Array.filter (fun s -> match s.Kind with PCat _ -> true | _ -> false) |> Array.length) dependent.Length withProducts.Length
            let failures =
                [ for g in programs do
                    match exactProblems g with
                    | [] -> ()
                    | problems -> yield sprintf "%s\n%O" (String.Join("\n", problems)) g ]
            if not failures.IsEmpty then
                failtestf "%d of %d programs disagree:\n%s" failures.Length programs.Length (String.Join("\n\n", failures |> List.truncate 5))
            Expect.isGreaterThanOrEqual programs.Length 30 "enough programs"
            Expect.isGreaterThanOrEqual withProducts.Length 10 "enough programs with products"
        }

        test "some sites enumerated, the others sampled: mean gradients (Surrogate.Build, Dice.Build) and reported costs match the oracle" {
            let platedEnumerated (g: Program) = mixedChoice g |> Seq.exists (fun i -> not g.Sites.[i].Plates.IsEmpty)
            let candidates =
                sample 6067UL 500
                |> Array.filter (fun g ->
                    let chosen = mixedChoice g
                    not chosen.IsEmpty && chosen.Count < g.Sites.Length && (unroll g).Flat.Sites.Length <= 16)
            let inPlates, global' = candidates |> Array.partition platedEnumerated
            let programs = Array.append (Array.truncate (mixedGraphs / 2) inPlates) global' |> Array.truncate mixedGraphs
            let plated = programs |> Array.sumBy (fun g -> mixedChoice g |> Seq.filter (fun i -> not g.Sites.[i].Plates.IsEmpty) |> Seq.length)
            printfn "RandomPlatedEnum mixed: %d of 500 generated programs qualify, %d tested (%d with an independent product), enumerating %d sites (%d in plates)"
                candidates.Length programs.Length (programs |> Array.filter hasZip |> Array.length)
                (programs |> Array.sumBy (fun g -> (mixedChoice g).Count)) plated
            let failures =
                [ for g in programs do
                    let enumerated = mixedChoice g
                    let j, gstar = platedTruth g (unroll g)
                    let grads, costs = runMixed g enumerated
                    for (i, what) in [ 0, "Surrogate.Build"; 1, "Dice.Build" ] do
                        if not (zOf grads.[i] gstar < Stats.zBound) then yield describe what grads.[i] gstar enumerated g
                    if not (zOf costs [| j |] < Stats.zBound) then yield describe "reported cost" costs [| j |] enumerated g ]
            if not failures.IsEmpty then
                failtestf "%d failure(s) in %d graphs:\n%s" failures.Length programs.Length (String.Join("\n\n", failures))
            Expect.equal programs.Length mixedGraphs "enough programs"
        }
    
        test "a discrete site that cannot be enumerated is refused with an error naming it" {
            // each case enumerates one discrete site that `enumerable` rejects (an extra batch dimension, a later node
            // outside its plates); the run or Surrogate.Build must throw, naming the site
            let reasonOf (_: Program) (site: PSite) =
                if site.Extra <> NoExtra then "batch dimension" else "plate"
            let drawn = sample 3037UL 300
            let cases =
                [ for g in Array.append drawn (Array.map sequenced drawn) do
                    for site in g.Sites do
                        if isDiscreteSite site && not (enumerable g site) then yield g, site ]
                |> List.groupBy (fun (g, site) -> reasonOf g site)
                |> List.collect (fun (_, cs) -> List.truncate 20 cs)
            let reasons = Dictionary<string, int>()
            let problems =
                [ for (g, site) in cases do
                    use scope = torch.NewDisposeScope()
                    let leaves = platedLeaves g
                    let nesting = neededNesting g
                    use gen = new Generator(g.Seed, torch.CPU)
                    let name = sprintf "'x%d'" site.Id
                    let reason = reasonOf g site
                    match (try
                               let run = Interpreter.Sample(modelWith (Set.singleton site.Id) g 3 nesting leaves, RunOptions(Generator = gen, Particles = 3, MaxPlateNesting = nesting))
                               Surrogate.Build(run.Trace) |> ignore
                               None
                           with e -> Some e.Message) with
                    | None -> yield sprintf "x%d (%s) was enumerated without an error:\n%O" site.Id reason g
                    | Some msg when not (msg.Contains name) -> yield sprintf "x%d (%s): the error does not name it: %s" site.Id reason msg
                    | Some _ -> reasons.[reason] <- reasons.GetValueOrDefault(reason) + 1 ]
            printfn "RandomPlatedEnum refusals: %d cases, %s" cases.Length (String.Join(", ", reasons |> Seq.map (fun kv -> sprintf "%s %d" kv.Key kv.Value)))
            Expect.isEmpty problems "every refusal names the site"
            Expect.equal cases.Length 40 "20 cases of each reason"
        }
    ]
