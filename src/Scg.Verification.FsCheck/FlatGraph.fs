/// Random FLAT stochastic computation graphs (no plates): the generator and the graph as a Scg model; the exact
/// oracle is in FlatOracle.fs.
///
/// Generator. A graph has P ∈ {2, 3} parameters θ (scalar float64 leaves) and 1–6 sites in program order, each
///   - Bernoulli: logit affine in θ and in its discrete parents (score function);
///   - Categorical (3 classes): each of the 3 logits affine in θ and in its discrete parents (score function);
///   - Normal: mean affine in θ, in its discrete parents and in its Normal parents; scale a positive constant or
///     exp of an affine function of θ and of its discrete parents; pathwise, or score function (forced).
/// Parents are a random subset of earlier sites. A parent enters an affine form through a feature vector: its
/// value (Bernoulli 0/1, Normal real) times a coefficient, or, for a Categorical parent, the one-hot vector of
/// its index times a 3 × out matrix (so a categorical parent can shift each output by an arbitrary amount per
/// class). Costs are s · y1 · y2 + y3 with y1, y2, y3 affine forms in θ and in any earlier sites (y2 = y1 half
/// of the time, a square), so they are quadratic in θ and in the Normal values and arbitrary in the discrete
/// values. Costs are recorded at random points of the program, before some sites and after others, so the
/// cost-to-go credit matters.
/// Discrete logits never depend on Normal values and Normal scales never depend on Normal values: that keeps
/// the oracle below in closed form (no quadrature).
module Scg.Verification.FlatGraph

open System
open FsCheck
open FsCheck.FSharp
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Estimators
open Scg.Verification.GraphTensors

// ---------------------------------------------------------------------------------------------------------
// Graphs

/// out-dimensional affine form: Bias [out] + θ · Theta [P × out] + Σ_parents feature(parent) · W [in × out],
/// matrices stored row-major; `in` is 3 for a Categorical parent (its one-hot index), 1 otherwise.
type Affine =
    { Out: int
      Bias: float[]
      Theta: float[]
      Parents: (int * float[]) list }

/// A Normal site's scale: a positive constant, or exp of an affine form in θ and discrete sites.
type Scale =
    | ConstScale of float
    | ExpScale of Affine

/// A flat site: Bernoulli or Categorical(3) by its logits (score function), or Normal (pathwise, or score function when the flag is set).
type Site =
    | Bern of logit: Affine
    | Cat of logits: Affine
    | Gauss of mean: Affine * scale: Scale * scoreFunction: bool

/// c = S · Y1 · Y2 + Y3; Pos: the number of sites recorded before the cost.
type CostSpec = { Pos: int; S: float; Y1: Affine; Y2: Affine; Y3: Affine }

/// One step of a flat program: a site or a cost, by index.
type Step =
    | SiteStep of int
    | CostStep of int

/// A flat graph: parameters θ0, sites in program order, costs with their positions, and a seed for the runs.
type Graph =
    { Theta0: float[]
      Sites: Site[]
      Costs: CostSpec[]
      Seed: uint64 }

    member g.P = g.Theta0.Length

    /// Sites and costs in program order (costs at the same position in index order, before the site there).
    member g.Program =
        [ for p in 0 .. g.Sites.Length do
            for c in 0 .. g.Costs.Length - 1 do
                if g.Costs.[c].Pos = p then yield CostStep c
            if p < g.Sites.Length then yield SiteStep p ]

    override g.ToString() =
        let aff (a: Affine) =
            sprintf "{b=%A θ=%A par=%A}" a.Bias a.Theta a.Parents
        let site i s =
            match s with
            | Bern a -> sprintf "x%d ~ Bernoulli(logit %s)" i (aff a)
            | Cat a -> sprintf "x%d ~ Categorical(logits %s)" i (aff a)
            | Gauss (m, sc, sf) ->
                let scs = match sc with ConstScale v -> sprintf "%g" v | ExpScale a -> "exp " + aff a
                sprintf "x%d ~ Normal(mean %s, scale %s)%s" i (aff m) scs (if sf then " [score function]" else "")
        let lines =
            g.Program
            |> List.map (function
                | SiteStep i -> site i g.Sites.[i]
                | CostStep c ->
                    let k = g.Costs.[c]
                    sprintf "c%d = %g * %s * %s + %s" c k.S (aff k.Y1) (aff k.Y2) (aff k.Y3))
        sprintf "θ0 = %A, seed %d\n  %s" g.Theta0 g.Seed (String.Join("\n  ", lines))

/// True for a Bernoulli or Categorical site.
let isDiscrete = function Bern _ | Cat _ -> true | Gauss _ -> false
/// The width of a site's feature row: 3 for a Categorical (one-hot), 1 otherwise.
let featureDim = function Cat _ -> 3 | _ -> 1
/// True when the site's gradient comes from the score function.
let isScoreFunction = function Bern _ | Cat _ -> true | Gauss (_, _, sf) -> sf

// ---------------------------------------------------------------------------------------------------------
// Generator

/// A coefficient on the grid lo + (hi − lo) · i / 40, i = 0 … 40.
let coef (lo: float) (hi: float) = Gen.choose (0, 40) |> Gen.map (fun i -> lo + (hi - lo) * float i / 40.0)

/// An affine form over θ (each θ coordinate used with probability 0.7) and a random subset of `eligible` sites.
let genAffine (sites: Site[]) (p: int) (out: int) (eligible: int list) (range: float) =
    gen {
        let! bias = Gen.arrayOfLength out (coef -1.0 1.0)
        let! used = Gen.arrayOfLength p (Gen.frequency [ 7, Gen.constant true; 3, Gen.constant false ])
        let! raw = Gen.arrayOfLength (p * out) (coef -range range)
        let theta = raw |> Array.mapi (fun i w -> if used.[i / out] then w else 0.0)
        let! parents = Gen.subListOf eligible
        let! ws = parents |> Gen.collectToList (fun j -> Gen.arrayOfLength (featureDim sites.[j] * out) (coef -range range))
        return { Out = out; Bias = bias; Theta = theta; Parents = List.zip parents ws }
    }

/// Site i of a graph with p parameters, given the earlier sites.
let genSite (sites: Site[]) (p: int) (i: int) =
    let discrete = [ for j in 0 .. i - 1 do if isDiscrete sites.[j] then yield j ]
    let all = [ 0 .. i - 1 ]
    Gen.frequency [
        3, genAffine sites p 1 discrete 1.0 |> Gen.map Bern
        2, genAffine sites p 3 discrete 1.0 |> Gen.map Cat
        5, gen {
            let! mean = genAffine sites p 1 all 1.0
            let! scale =
                Gen.oneof [
                    coef 0.3 1.5 |> Gen.map ConstScale
                    gen {
                        let! a = genAffine sites p 1 discrete 0.5
                        return ExpScale { a with Bias = a.Bias |> Array.map (fun b -> -0.35 + 0.65 * b) }
                    } ]
            let! sf = Gen.frequency [ 3, Gen.constant false; 2, Gen.constant true ]
            return Gauss (mean, scale, sf)
        } ]

/// A cost at a random point of the program (more often in its second half), each of its forms over a random
/// subset of the earlier sites, y1 over at least one of them when there is one.
let genCost (sites: Site[]) (p: int) =
    gen {
        let n = sites.Length
        let! pos = Gen.frequency [ 1, Gen.choose (0, n); 2, Gen.choose ((n + 1) / 2, n) ]
        let before = [ 0 .. pos - 1 ]
        let! s = coef -1.0 1.0
        let! y1 = genAffine sites p 1 before 1.0
        let! y1 =
            if pos = 0 || not y1.Parents.IsEmpty then Gen.constant y1
            else
                gen {
                    let! j = Gen.elements before
                    let! w = Gen.arrayOfLength (featureDim sites.[j]) (coef -1.0 1.0)
                    return { y1 with Parents = [ j, w ] }
                }
        let! square = Gen.elements [ true; false ]
        let! y2 = if square then Gen.constant y1 else genAffine sites p 1 before 1.0
        let! y3 = genAffine sites p 1 before 1.0
        return { Pos = pos; S = s; Y1 = y1; Y2 = y2; Y3 = y3 }
    }

/// Flat graphs: 2–3 parameters, 1–6 sites, 1–4 costs, and a seed for the runs.
let genGraph =
    gen {
        let! p = Gen.choose (2, 3)
        let! n = Gen.choose (1, 6)
        let! theta0 = Gen.arrayOfLength p (coef -1.0 1.0)
        // Sites one by one: each sees the earlier ones.
        let rec sitesFrom (acc: Site[]) =
            if acc.Length = n then Gen.constant acc
            else genSite acc p acc.Length |> Gen.bind (fun s -> sitesFrom (Array.append acc [| s |]))
        let! sites = sitesFrom [||]
        let! m = Gen.choose (1, 4)
        let! costs = Gen.arrayOfLength m (genCost sites p)
        let! seed = Gen.choose (1, Int32.MaxValue)
        return { Theta0 = theta0; Sites = sites; Costs = costs; Seed = uint64 seed }
    }

// ---------------------------------------------------------------------------------------------------------
// The graph as a Scg model (batch-agnostic: parameters are scalars, values have a leading particle dimension)


/// A site value as a feature row: [.., 3] one-hot for a Categorical index, [.., 1] otherwise.
let feature (site: Site) (v: Tensor) =
    match site with
    | Cat _ -> torch.nn.functional.one_hot(v, 3L).to_type(ScalarType.Float64)
    | _ -> v.unsqueeze(-1)

/// Evaluates an affine form on sampled values; result [.., out], or [..] when out = 1.
let evalAffine (g: Graph) (theta: Tensor) (vals: Map<int, Tensor>) (a: Affine) =
    let mutable acc = f64 a.Bias + theta.matmul(mat a.Theta g.P a.Out)
    for (j, w) in a.Parents do
        acc <- acc + (feature g.Sites.[j] vals.[j]).matmul(mat w (featureDim g.Sites.[j]) a.Out)
    if a.Out = 1 then acc.squeeze(-1) else acc

/// The site's distribution and estimator, given θ and the earlier sites' values.
let distOf (g: Graph) theta vals (site: Site) : Distribution * SiteEstimator =
    match site with
    | Bern a -> Bernoulli.FromLogits(evalAffine g theta vals a) :> _, SiteEstimator.Auto
    | Cat a -> Categorical.FromLogits(evalAffine g theta vals a) :> _, SiteEstimator.Auto
    | Gauss (m, sc, sf) ->
        let scale =
            match sc with
            | ConstScale v -> f64 [| v |] |> fun t -> t.squeeze()
            | ExpScale a -> (evalAffine g theta vals a).exp()
        Normal(evalAffine g theta vals m, scale) :> _,
        (if sf then SiteEstimator.ScoreFunction else SiteEstimator.Pathwise)


/// The graph as a model over the parameter leaves; written with the F# builder, one bind per step.
let toModel (g: Graph) (leaves: Tensor list) : Model<unit> =
    let rec go (steps: Step list) (vals: Map<int, Tensor>) (theta: Tensor) : Model<unit> =
        match steps with
        | [] -> mb { return () }
        | SiteStep i :: rest ->
            mb {
                let dist, est = distOf g theta vals g.Sites.[i]
                let! x = Model.Sample(sprintf "x%d" i, dist, est)
                return! go rest (vals.Add(i, x)) theta
            }
        | CostStep c :: rest ->
            mb {
                let k = g.Costs.[c]
                let y1 = evalAffine g theta vals k.Y1
                let y2 = evalAffine g theta vals k.Y2
                let y3 = evalAffine g theta vals k.Y3
                let! _ = Model.Cost(sprintf "c%d" c, y1 * y2 * k.S + y3)
                return! go rest vals theta
            }
    mb {
        let theta = torch.stack(leaves |> Array.ofList)
        return! go g.Program Map.empty theta
    }

/// Float64 scalar leaves at the graph's θ0, requiring gradients.
let leavesOf (g: Graph) = leavesAt g.Theta0
