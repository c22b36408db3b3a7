/// STATISTICAL tests (and two exact ones) of baselines and critics (issue 8, scg-math.md §2): every baseline kind
/// keeps the score-function estimate unbiased on closed forms, a critic is unbiased only when exact, baselines that
/// read the site itself are rejected by the harness, and leave-one-out matches its closed form.
///
/// Models P (plates), Z (Model.Zip) and S (two sites): BaselineClosedForms.fs.
///
/// Runs. Each configuration draws W warm-up runs (their gradients dropped: moving averages start, learned baselines
/// train) and N estimate runs, with K particles; every run builds both surrogate constructions (vectorised, and
/// Vectorize = false) from the same trace. The vectorised one keeps its baseline state in the run's store
/// (RunOptions.Params), the per-site one in a second store (SurrogateOptions.Store), so the two states never see
/// each other's updates. Learned baselines take one SGD step on the vectorised objective's BaselineLoss after each
/// run's gradients are taken. Moving averages and learned baselines carry state from earlier runs, so the runs are
/// not independent, but every run's baseline depends only on earlier runs: the estimates are a martingale-difference
/// sequence around the true gradient, and their mean's standard error is estimated as for independent runs.
///
/// Statistics. As the rest of the suite: |z| < Stats.zBound = 5 per coordinate; two-sided under the null 5.4e-6 with
/// N = 60 estimates, less with the N = 100 and 150 used elsewhere here (Student's t).
/// Coordinates z-tested that must pass in this file: baselines on P, 18 configurations × 2 constructions × 4
/// coordinates = 144, and the trained learned baseline 8 more; on Z, 6 × 2 × 2 = 24; exact critics, 12; calibration
/// of the four broken estimators against their own exact expectations, 4 × 10 seeds × 2 constructions × 2 = 160.
/// That is 348: the file's false-alarm rate is below 348 × 5.4e-6 < 2e-3 (Bonferroni). The rejection test requires
/// ≥ 80% rejections of each broken estimator; their biases are about 10–40 standard errors (the test prints the
/// median |z|), so it misses with negligible probability. The leave-one-out tests are exact (float64, 1e-12), with no
/// false alarms. All seeds are fixed, so a given commit always passes or always fails.
module Scg.Tests.BaselineStatTests

open System
open System.Collections.Generic
open Expecto
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Estimators
open Scg.Tracing

type Tensor = TorchSharp.torch.Tensor
type Generator = TorchSharp.torch.Generator
type ScalarType = TorchSharp.torch.ScalarType
open Scg.Tests.BaselineClosedForms

// ---------------------------------------------------------------------------------------------------------
// Baselines and how they reach the sites

type Kind =
    | Constant
    | MovingAverage
    | MovingAveragePerElement
    | LeaveOneOut
    | Learned
    | Custom

type Attach =
    /// SiteEstimator.ScoreFunction.WithBaseline in Model.Sample.
    | InModel
    /// RunOptions.Estimators, one For(name, …) per site, on a model whose sites are Auto.
    | Override
    /// SurrogateOptions.Baseline, on a model whose sites are Auto.
    | Fallback

/// Reads only non-descendants of the site: its distribution's parameters (functions of upstream values and θ),
/// and, with K ≥ 2 particles, half the mean cost-to-go of the other particles (independent of this one).
let customBaseline =
    Baseline.Custom(fun site q ->
        let fromDist =
            match site.Distribution with
            | :? Bernoulli as b -> b.Probs.detach() * 1.5
            | :? Categorical as c -> c.Probs.detach().matmul(vec [| 0.5; 1.0; -1.0 |])
            | _ -> f64 0.0
        match site.Plates |> Seq.tryFind (fun p -> p.IsParticles) with
        | Some p when p.Size >= 2L -> fromDist + (q.sum(int64 p.Dim, true) - q) * (0.5 / float (p.Size - 1L))
        | _ -> fromDist)

/// A fresh float64 linear module with fixed initial weights (so runs are reproducible).
let linear (inputs: int64) (w: float) (b: float) =
    let m = torch.nn.Linear(inputs, 1L, dtype = ScalarType.Float64)
    use _ = torch.no_grad()
    m.weight.fill_(w) |> ignore
    m.bias.fill_(b) |> ignore
    m

/// Several estimates of one configuration: gradients of both constructions per estimate run, and the learned
/// modules (to check that training moved them).
type Outcome = { Vectorised: float[][]; PerSite: float[][]; Modules: torch.nn.Module list }

/// W warm-up runs then N estimate runs of `m` with `siteEstimator` per site (in the model, or through overrides
/// as `attach` says), the fallback baseline in the surrogate options, K particles.
let runEstimates (m: CfModel) (seed: uint64) (k: int) (warm: int) (n: int)
                 (inModel: string -> SiteEstimator) (overrides: EstimatorOverrides) (fallback: Baseline) (modules: torch.nn.Module list) =
    let leaves = leavesOf m.Theta0
    use gen = new Generator(seed, torch.CPU)
    let mdl = m.Build inModel leaves
    let runStore = ParamStore()
    let perSiteStore = ParamStore()
    let parameters = modules |> List.collect (fun md -> List.ofSeq (md.parameters()))
    let opt = if parameters.IsEmpty then None else Some (torch.optim.SGD(parameters, 0.05))
    let vs = List<float[]>()
    let ps = List<float[]>()
    for r in 0 .. warm + n - 1 do
        use scope = torch.NewDisposeScope()
        let run =
            Interpreter.Sample(mdl, RunOptions(Generator = gen, Particles = k, MaxPlateNesting = m.Nesting, Params = runStore, Estimators = overrides))
        let sv = Surrogate.Build(run.Trace, SurrogateOptions(Baseline = fallback))
        let sp = Surrogate.Build(run.Trace, SurrogateOptions(Baseline = fallback, Vectorize = false, Store = perSiteStore))
        let gs = RandomScgTests.gradsOfMany [ sv.Surrogate; sp.Surrogate ] leaves
        if r >= warm then
            vs.Add gs.[0]
            ps.Add gs.[1]
        match opt, sv.BaselineLoss with
        | Some o, loss when not (isNull loss) ->
            o.zero_grad()
            loss.backward()
            o.step() |> ignore
        | _ -> ()
    { Vectorised = vs.ToArray(); PerSite = ps.ToArray(); Modules = modules }

/// The estimator runs of one baseline kind, attached to every score-function site of `m` as `attach` says.
let runKind (m: CfModel) (kind: Kind) (attach: Attach) (seed: uint64) (warm: int) (n: int) =
    let modules = List<torch.nn.Module>()
    let learnedFor (site: string) =
        let inputs, features, width = m.Learned site
        let md = linear width 0.3 0.5
        modules.Add md
        Baseline.Learned(sprintf "baseline-%s" site, md, inputs, Func<_, _> features) :> Baseline
    let baselineFor (site: string) : Baseline =
        match kind with
        | Constant -> Baseline.Constant 1.5
        | MovingAverage -> Baseline.MovingAverage(0.8)
        | MovingAveragePerElement -> Baseline.MovingAverage(0.8, perElement = true)
        | LeaveOneOut -> Baseline.LeaveOneOut
        | Learned -> learnedFor site
        | Custom -> customBaseline
    let k =
        match kind, attach with
        | LeaveOneOut, Fallback -> 3
        | LeaveOneOut, _ -> 4
        | _, InModel -> 4
        | _, Override -> 0
        | _, Fallback -> 3
    let withBaseline site = SiteEstimator.ScoreFunction.WithBaseline(baselineFor site)
    let inModel, overrides, fallback =
        match attach with
        | InModel -> (fun site -> withBaseline site), null, null
        | Override ->
            (fun _ -> SiteEstimator.Auto),
            (m.Sites |> List.fold (fun (o: EstimatorOverrides) site -> o.For(site, withBaseline site)) EstimatorOverrides.None),
            null
        | Fallback ->
            // one baseline for every site: a learned one then reads no site (a learned constant)
            let b =
                match kind with
                | Learned ->
                    let md = linear 1L 0.3 0.5
                    modules.Add md
                    Baseline.Learned("baseline-all", md, [], Func<_, _> constantFeature) :> Baseline
                | _ -> baselineFor "*"
            (fun _ -> SiteEstimator.Auto), null, b
    runEstimates m seed k warm n inModel overrides fallback (List.ofSeq modules), k

let describe name (samples: float[][]) (exact: float[]) =
    let e = Stats.estimate samples
    sprintf "%s: mean [%s] vs exact [%s] (se [%s]), max |z| = %.2f" name (Stats.fmt e.Mean) (Stats.fmt exact) (Stats.fmt e.StdErr)
        (RandomScgTests.zOf samples exact)

/// The failures of both constructions' z-tests of one outcome against `exact`.
let failuresOf name (o: Outcome) (exact: float[]) =
    [ for (label, s) in [ "vectorised", o.Vectorised; "per-site", o.PerSite ] do
        if not (RandomScgTests.zOf s exact < Stats.zBound) then yield describe (sprintf "%s, %s" name label) s exact ]

let kinds = [ Constant; MovingAverage; MovingAveragePerElement; LeaveOneOut; Learned; Custom ]

// ---------------------------------------------------------------------------------------------------------
// Estimators that must be rejected

/// A broken estimator of u in model S: its name, u's estimator, its exact expected gradient, particles and runs.
type Broken = { Label: string; U: SiteEstimator; Expected: float[]; K: int; N: int }

let brokenEstimators (sneak: Sneak) =
    let m = modelS sneak
    let gstar = exactGradient m
    let expect (f: Tensor list -> Tensor) =
        use scope = torch.NewDisposeScope()
        let leaves = leavesOf m.Theta0
        // every leaf takes part (with weight 0), so autograd answers a gradient for each
        Stats.gradOf (f leaves + (torch.stack(Array.ofList leaves) * 0.0).sum()) leaves
    let a = expect scoreOfU
    // the estimator without u's score term: ∇ of E[cost] with p(u | x) detached
    let noScoreU =
        expect (fun leaves ->
            let th = Array.ofList leaves
            let mutable total = f64 0.0
            for x in [ 0.0; 1.0 ] do
                let px = if x = 1.0 then th.[0].sigmoid() else 1.0 - th.[0].sigmoid()
                total <- total + px * ((th.[1] + x).sigmoid().detach() * (2.0 + x) + x + 1.0)
            total)
    let shifted (c: float) = Array.map2 (fun g s -> g - c * s) gstar a
    let sneaky = linear 1L 2.0 0.5
    [ { Label = "custom baseline 3·(the site's value)"
        U = SiteEstimator.ScoreFunction.WithBaseline(Baseline.Custom(fun site _ -> site.Value * 3.0)); Expected = shifted 3.0; K = 4; N = 100 }
      { Label = "custom baseline = the site's own cost-to-go element"
        U = SiteEstimator.ScoreFunction.WithBaseline(Baseline.Custom(fun _ q -> q)); Expected = noScoreU; K = 4; N = 60 }
      { Label = "learned baseline whose features read the site's value through a closure"
        U = SiteEstimator.ScoreFunction.WithBaseline(
              Baseline.Learned("sneaky", sneaky, [ "x" ], Func<_, _> (fun _ -> sneak.U.to_type(ScalarType.Float64).unsqueeze(-1))))
        Expected = shifted 2.0; K = 4; N = 150 }
      { Label = "critic E[Q | u, x] + 1.5·u (not exact)"
        U = SiteEstimator.ScoreFunction.WithCritic(Critic(fun site trace ->
              let x = trace.Sample("x").Value
              site.Value * 2.0 + x + site.Value * x + 1.0 + site.Value * 1.5))
        Expected = shifted -1.5; K = 32; N = 100 } ]

// ---------------------------------------------------------------------------------------------------------
// Leave-one-out by hand

let private looCost (z: Tensor) = (z - 0.3).square() * 2.0 + 0.7
let private looF (z: float) = (z - 0.3) ** 2.0 * 2.0 + 0.7

/// The leave-one-out gradient for draws zs of Bernoulli(σ(θ)) with cost f:
/// (1/K) Σ_k (z_k − σ) (f(z_k) − (1/(K − 1)) Σ_{j≠k} f(z_j)).
let looByHand (theta: float) (zs: float[]) =
    let s = 1.0 / (1.0 + exp -theta)
    let k = float zs.Length
    let total = zs |> Array.sumBy looF
    (zs |> Array.sumBy (fun z -> (z - s) * (looF z - (total - looF z) / (k - 1.0)))) / k

let private sigmoid x = 1.0 / (1.0 + exp -x)

// ---------------------------------------------------------------------------------------------------------
// Tests

let private warm = 5
let private runsFor k = if k = 0 then 300 else 120

[<Tests>]
let tests =
    testList "baselines (statistical)" [
        test "every baseline kind keeps the gradient unbiased on P (score-function sites in a plate, costs at depths 0–2), in the model, by override and as fallback, both constructions" {
            let exact = exactGradient modelP
            let mutable seed = 100UL
            let failures =
                [ for kind in kinds do
                    for attach in [ InModel; Override; Fallback ] do
                        seed <- seed + 1UL
                        let o, k = runKind modelP kind attach seed warm (runsFor 4)
                        yield! failuresOf (sprintf "P: %A, %A (K = %d)" kind attach k) o exact ]
            Expect.isEmpty failures "every baseline is unbiased"
        }

        test "every baseline kind keeps the gradient unbiased on Z (Model.Zip), both constructions" {
            let exact = exactGradient modelZ
            let attaches = [| InModel; Override; Fallback |]
            let failures =
                [ for (i, kind) in List.indexed kinds do
                    let attach = attaches.[i % 3]
                    let o, k = runKind modelZ kind attach (200UL + uint64 i) warm (runsFor 4)
                    yield! failuresOf (sprintf "Z: %A, %A (K = %d)" kind attach k) o exact ]
            Expect.isEmpty failures "every baseline is unbiased"
        }

        test "a learned baseline trained between estimates moves and stays unbiased" {
            let exact = exactGradient modelP
            let o, _ = runKind modelP Learned InModel 300UL warm (runsFor 4)
            Expect.isEmpty (failuresOf "P: Learned, trained" o exact) "unbiased"
            let moved =
                o.Modules |> List.filter (fun md ->
                    md.parameters() |> Seq.exists (fun p ->
                        p.detach().data<float>().ToArray() |> Array.exists (fun x -> abs (x - 0.3) > 1e-6 && abs (x - 0.5) > 1e-6)))
            Expect.equal moved.Length o.Modules.Length "every learned module changed from its initial weights"
        }

        test "an exact critic keeps the gradient unbiased (Z in the model and by override, S)" {
            let failures =
                [ let th = Array.ofList (leavesOf modelZ.Theta0)
                  let critic = SiteEstimator.ScoreFunction.WithCritic(Critic(zCritic th))
                  let exact = exactGradient modelZ
                  let o = runEstimates modelZ 400UL 4 0 (runsFor 4) (fun _ -> critic) null null []
                  yield! failuresOf "Z: exact critics in the model" o exact
                  let overrides = modelZ.Sites |> List.fold (fun (ov: EstimatorOverrides) s -> ov.For(s, critic)) EstimatorOverrides.None
                  let o = runEstimates modelZ 401UL 0 0 (runsFor 0) (fun _ -> SiteEstimator.Auto) overrides null []
                  yield! failuresOf "Z: exact critics by override (K = 0)" o exact
                  let s = modelS { U = null }
                  let ths = Array.ofList (leavesOf s.Theta0)
                  let o =
                      runEstimates s 402UL 4 0 (runsFor 4)
                          (function "x" -> SiteEstimator.ScoreFunction.WithCritic(Critic(sCriticX ths)) | _ -> SiteEstimator.Auto) null null []
                  yield! failuresOf "S: exact critic of x" o (exactGradient s) ]
            Expect.isEmpty failures "exact critics are unbiased"
        }

        test "the harness rejects baselines that read the site itself, and an inexact critic" {
            let sneak = { U = null }
            let m = modelS sneak
            let gstar = exactGradient m
            let seeds = 10
            let lines = List<string>()
            let calibration = List<string>()
            for b in brokenEstimators sneak do
                let mutable rejected = 0
                let zs = List<float>()
                for i in 1 .. seeds do
                    let est = function "u" -> b.U | _ -> SiteEstimator.Auto
                    let o = runEstimates m (500UL + uint64 i) b.K 0 b.N est null null []
                    for (label, s) in [ "vectorised", o.Vectorised; "per-site", o.PerSite ] do
                        let z = RandomScgTests.zOf s gstar
                        zs.Add z
                        if z >= Stats.zBound then rejected <- rejected + 1
                        if not (RandomScgTests.zOf s b.Expected < Stats.zBound) then
                            calibration.Add(describe (sprintf "%s (%s, seed %d) vs its own expectation" b.Label label i) s b.Expected)
                let rate = float rejected / float (2 * seeds)
                lines.Add(sprintf "%s %.0f%% of %d (median |z| %.1f)" b.Label (100.0 * rate) (2 * seeds) (Seq.sort zs |> Seq.item seeds))
                Expect.isGreaterThanOrEqual rate 0.8 (sprintf "%s is rejected in at least 80%% of the runs" b.Label)
            printfn "Baseline rejection rates: %s" (String.Join("; ", lines))
            Expect.isEmpty (List.ofSeq calibration) "each broken estimator estimates its own exactly computed expectation"
        }

        test "leave-one-out: Scg's gradient equals the hand formula for each draw (K = 2, 3, 4, 7; in the model, by override, as fallback; both constructions)" {
            let theta0 = 0.35
            for k in [ 2; 3; 4; 7 ] do
                for attach in [ InModel; Override; Fallback ] do
                    let theta = torch.tensor(theta0, dtype = ScalarType.Float64, requires_grad = true)
                    let loo = SiteEstimator.ScoreFunction.WithBaseline(Baseline.LeaveOneOut)
                    let est = if attach = InModel then loo else SiteEstimator.Auto
                    let mdl = mb {
                        let! z = Model.Sample("z", bern theta, est)
                        let! _ = Model.Cost("f", looCost z)
                        return () }
                    let overrides = if attach = Override then EstimatorOverrides.None.For("z", loo) else null
                    let fallback = if attach = Fallback then Baseline.LeaveOneOut :> Baseline else null
                    use gen = new Generator(600UL + uint64 k, torch.CPU)
                    for _ in 1 .. 10 do
                        use scope = torch.NewDisposeScope()
                        let run = Interpreter.Sample(mdl, RunOptions(Generator = gen, Particles = k, MaxPlateNesting = 0, Estimators = overrides))
                        let zs = run.Trace.Sample("z").Value.data<float>().ToArray()
                        Expect.equal zs.Length k "one value per particle"
                        let hand = looByHand theta0 zs
                        for vectorize in [ true; false ] do
                            let s = Surrogate.Build(run.Trace, SurrogateOptions(Baseline = fallback, Vectorize = vectorize)).Surrogate
                            let g = (Stats.gradOf s [ theta ]).[0]
                            Expect.isLessThanOrEqual (abs (g - hand)) 1e-12
                                (sprintf "K = %d, %A, vectorize %b, draws %A: Scg %.15g vs by hand %.15g" k attach vectorize zs g hand)
        }

        test "leave-one-out: its exact expectation over all 2^K particle outcomes is σ(1−σ)(f(1) − f(0))" {
            for theta in [ -1.2; 0.35; 2.0 ] do
                let s = sigmoid theta
                let exact = s * (1.0 - s) * (looF 1.0 - looF 0.0)
                for k in 2 .. 8 do
                    let mutable expectation = 0.0
                    for row in 0 .. (1 <<< k) - 1 do
                        let zs = Array.init k (fun i -> float ((row >>> i) &&& 1))
                        let p = zs |> Array.fold (fun acc z -> acc * (if z = 1.0 then s else 1.0 - s)) 1.0
                        expectation <- expectation + p * looByHand theta zs
                    Expect.floatClose Accuracy.veryHigh expectation exact (sprintf "θ = %g, K = %d" theta k)
        }
    ]
