/// Random baselines for the random plated programs (issue 8): each score-function site gets a randomly chosen
/// baseline (none, constant, moving average per site or per plate element, leave-one-out when K ≥ 2, learned from
/// an upstream site, custom reading only non-descendants), attached in the model, by RunOptions.Estimators
/// overrides, or through the fallback SurrogateOptions.Baseline. The exact-oracle z-tests of RandomPlatedTests.fs
/// run every program with such a plan: a baseline must leave the expected gradient unchanged.
///
/// The plan is drawn from its own random stream (seeded by the program's seed), so the programs themselves are the
/// same as without baselines. Moving averages and learned baselines keep state from run to run: the vectorised
/// construction in the run's store (RunOptions.Params), the per-site one in another (SurrogateOptions.Store), so
/// neither sees the other's updates; the learned modules take one Adam step on the vectorised objective's
/// BaselineLoss after each run's gradients are taken. A run's baseline depends only on earlier runs, so the
/// estimates stay a martingale-difference sequence around g* and the z-test applies as for independent runs.
module Scg.Tests.RandomPlatedBaselines

open System
open System.Collections.Generic
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Estimators
open Scg.Tracing
open Scg.Verification.PlatedProgram
open Scg.Verification.PlatedModel

type Tensor = TorchSharp.torch.Tensor
type Generator = TorchSharp.torch.Generator
type ScalarType = TorchSharp.torch.ScalarType

/// A baseline drawn for a site (or as the program's fallback).
type PBaseline =
    | NoBaseline
    | BConstant of float
    | BMovingAverage of decay: float * perElement: bool
    | BLeaveOneOut
    /// A linear module of one feature: the value of this upstream site, read as the site's forms read it.
    | BLearned of input: int
    /// Reads only non-descendants: the site's Bernoulli probabilities or θ, and half the leave-one-out mean when K ≥ 2.
    | BCustom

type PAttach =
    | AttachInModel
    | AttachOverride
    /// SurrogateOptions.Baseline: every score-function site without a baseline of its own gets this one (the
    /// others keep theirs, attached in the model).
    | AttachFallback of PBaseline

type BaselinePlan = { Attach: PAttach; PerSite: Map<int, PBaseline> }

let isScoreSite (s: PSite) = match s.Kind with PGauss (_, _, sf) -> sf | _ -> true

/// For each site, the sites it can read (recorded before it, not in a sibling branch of a product).
let visibleTo (g: Program) : Map<int, int list> =
    let rec walk (nodes: PNode list) (vis: int list) (acc: Map<int, int list>) =
        nodes
        |> List.fold (fun (vis: int list, acc: Map<int, int list>) n ->
            match n with
            | PSiteN s -> vis @ [ s.Id ], acc.Add(s.Id, vis)
            | PPlate (_, _, b) -> walk b vis acc
            | PZip (a, b) ->
                let va, acc = walk a vis acc
                let vb, acc = walk b vis acc
                let added l = l |> List.filter (fun s -> not (List.contains s vis))
                vis @ added va @ added vb, acc
            | _ -> vis, acc) (vis, acc)
    snd (walk g.Body [] Map.empty)

/// A random plan for the program run with K particles (K ≥ 2 allows leave-one-out).
let chooseBaselines (g: Program) (k: int) : BaselinePlan =
    let rnd = Random(int (g.Seed % 2147483647UL) ^^^ 0x5bd1e995)
    let visible = visibleTo g
    let shared () =
        match rnd.Next(if k >= 2 then 5 else 4) with
        | 0 -> BConstant (float (rnd.Next(-20, 21)) / 10.0)
        | 1 -> BMovingAverage (0.8, false)
        | 2 -> BMovingAverage (0.7, true)
        | 3 -> BCustom
        | _ -> BLeaveOneOut
    let forSite (s: PSite) =
        let inputs = visible.[s.Id]
        match rnd.Next(8) with
        | 0 -> NoBaseline
        | 1 | 2 when not inputs.IsEmpty -> BLearned inputs.[rnd.Next(inputs.Length)]
        | _ -> shared ()
    let attach =
        match rnd.Next(3) with
        | 0 -> AttachInModel
        | 1 -> AttachOverride
        | _ -> AttachFallback (shared ())
    let perSite =
        g.Sites |> Array.filter isScoreSite |> Array.map (fun s -> s.Id, forSite s) |> Map.ofArray
    // with a fallback, about half of the sites leave their baseline to it
    let perSite =
        match attach with
        | AttachFallback _ -> perSite |> Map.map (fun _ b -> if rnd.Next(2) = 0 then NoBaseline else b)
        | _ -> perSite
    { Attach = attach; PerSite = perSite }

let describePlan (plan: BaselinePlan) =
    let one = function
        | NoBaseline -> "none"
        | BConstant c -> sprintf "constant %g" c
        | BMovingAverage (d, e) -> sprintf "moving average %g%s" d (if e then " per element" else "")
        | BLeaveOneOut -> "leave-one-out"
        | BLearned j -> sprintf "learned from x%d" j
        | BCustom -> "custom"
    let attach =
        match plan.Attach with
        | AttachInModel -> "in the model"
        | AttachOverride -> "by override"
        | AttachFallback b -> sprintf "in the model, fallback %s" (one b)
    sprintf "baselines (%s): %s" attach
        (plan.PerSite |> Map.toList |> List.map (fun (i, b) -> sprintf "x%d %s" i (one b)) |> String.concat ", ")

/// True when a tensor of shape `a` broadcasts to shape `b` without enlarging it.
let fitsWithin (a: int64[]) (b: int64[]) =
    a.Length <= b.Length && Array.forall2 (fun x y -> x = 1L || x = y) a b.[b.Length - a.Length ..]

/// Reads only non-descendants of the site (see BCustom).
let customBaseline (theta0: float[]) =
    Baseline.Custom(fun site q ->
        let fromSite =
            match site.Distribution with
            | :? Bernoulli as b when fitsWithin b.Probs.shape q.shape -> b.Probs.detach() * 1.5
            | _ -> torch.tensor(0.3 + 0.2 * Array.sum theta0, dtype = q.dtype)
        match site.Plates |> Seq.tryFind (fun p -> p.IsParticles) with
        | Some p when p.Size >= 2L -> fromSite + (q.sum(int64 p.Dim, true) - q) * (0.5 / float (p.Size - 1L))
        | _ -> fromSite)

/// The baselines of a plan as Scg values, with the learned modules they create.
type Realised =
    { Model: Model<unit>
      Overrides: EstimatorOverrides
      Fallback: Baseline
      Modules: torch.nn.Module list }

let realise (g: Program) (plan: BaselinePlan) (k: int) (nesting: int) (leaves: Tensor list) : Realised =
    let modules = List<torch.nn.Module>()
    let baseline (s: PSite option) (b: PBaseline) : Baseline =
        match b with
        | NoBaseline -> null
        | BConstant c -> Baseline.Constant c
        | BMovingAverage (d, e) -> Baseline.MovingAverage(d, e)
        | BLeaveOneOut -> Baseline.LeaveOneOut
        | BCustom -> customBaseline g.Theta0
        | BLearned j ->
            let s = s.Value
            let ctx = { Plates = s.Plates; Rank = (if k > 0 then nesting + 1 else frameRank s.Plates) }
            let w = match g.Sites.[j].Kind with PCat _ -> [| 1.0; -0.5; 0.7 |] | _ -> [| 1.0 |]
            let features (vs: IReadOnlyList<Tensor>) =
                (readSite g (Map.ofList [ j, vs.[0] ]) ctx j w 1 0).to_type(ScalarType.Float64).unsqueeze(-1)
            let m = torch.nn.Linear(1L, 1L, dtype = ScalarType.Float64)
            (use _ = torch.no_grad()
             m.weight.fill_(0.1) |> ignore
             m.bias.fill_(0.0) |> ignore)
            modules.Add m
            Baseline.Learned(sprintf "learned-x%d" s.Id, m, [ sprintf "x%d" j ], Func<_, _> features)
    let own = plan.PerSite |> Map.map (fun id b -> baseline (Some g.Sites.[id]) b)
    let estimator (s: PSite) (est: SiteEstimator) =
        match plan.Attach, own.TryFind s.Id with
        | AttachOverride, _ | _, None -> est
        | _, Some b -> if isNull b then est else est.WithBaseline(b)
    let overrides =
        match plan.Attach with
        | AttachOverride ->
            own |> Map.fold (fun (o: EstimatorOverrides) id b ->
                if isNull b then o else o.For(sprintf "x%d" id, SiteEstimator.ScoreFunction.WithBaseline(b))) EstimatorOverrides.None
        | _ -> null
    let fallback = match plan.Attach with AttachFallback b -> baseline None b | _ -> null
    { Model = toPlatedModelWith estimator g k nesting leaves; Overrides = overrides; Fallback = fallback; Modules = List.ofSeq modules }

/// `runs` runs of the program with K particles and a random baseline plan; per run, both constructions' gradients
/// and reported costs. Returns (gradients of [vectorised; per-site], costs [vectorised, per-site] per run, plan).
let runWithBaselines (g: Program) (k: int) (runs: int) (seed: uint64) =
    let leaves = platedLeaves g
    use gen = new Generator(seed, torch.CPU)
    let nesting = neededNesting g
    let plan = chooseBaselines g k
    let r = realise g plan k nesting leaves
    let runStore = ParamStore()
    let perSiteStore = ParamStore()
    let parameters = r.Modules |> List.collect (fun m -> List.ofSeq (m.parameters()))
    let opt = if parameters.IsEmpty then None else Some (torch.optim.Adam(parameters, 0.01))
    let grads = Array.init 2 (fun _ -> Array.zeroCreate<float[]> runs)
    let costs = Array.zeroCreate<float[]> runs
    for i in 0 .. runs - 1 do
        use scope = torch.NewDisposeScope()
        let options = RunOptions(Generator = gen, Particles = k, MaxPlateNesting = nesting, Params = runStore, Estimators = r.Overrides)
        let run = Interpreter.Sample(r.Model, options)
        let sv = Surrogate.Build(run.Trace, SurrogateOptions(Baseline = r.Fallback))
        let sp = Surrogate.Build(run.Trace, SurrogateOptions(Baseline = r.Fallback, Vectorize = false, Store = perSiteStore))
        costs.[i] <- [| sv.Cost.item<float>(); sp.Cost.item<float>() |]
        let gs = RandomScgTests.gradsOfMany [ sv.Surrogate; sp.Surrogate ] leaves
        gs |> List.iteri (fun v x -> grads.[v].[i] <- x)
        match opt, sv.BaselineLoss with
        | Some o, loss when not (isNull loss) ->
            o.zero_grad()
            loss.backward()
            o.step() |> ignore
        | _ -> ()
    grads, costs, plan
