/// Closed-form models for the baseline tests (BaselineStatTests.fs), each with its exact objective, what a learned
/// baseline of each site reads, and exact critics.
///
/// Models. P: a ~ Bernoulli global; in plate i[3] at −1, y ~ Bernoulli (reading a) and z ~ Categorical(3) (reading y
/// element by element), costs in i and in i × j[2] (j at −2); after the plate a global cost reading Σ y and a third
/// site d ~ Bernoulli reading Σ y, with its own cost: four score-function sites, costs at depths 0, 1 and 2.
/// Z: x ~ Bernoulli, then Model.Zip of (u ~ Bernoulli reading x, a cost) and (a plate k[2] of v ~ Bernoulli, a
/// cost), then a cost reading u and Σ v. S: x ~ Bernoulli, u ~ Bernoulli reading x, one cost. The exact objective
/// of each is a sum over its discrete values (P: 2 × 2³ rows, z and d in closed form given them) differentiated by
/// autograd.
module Scg.Tests.BaselineClosedForms

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

let mb = ModelBuilder()
let f64 (x: float) = torch.tensor(x, dtype = ScalarType.Float64)
let vec (xs: float[]) = torch.tensor(xs, dtype = ScalarType.Float64)
let leavesOf (xs: float[]) =
    xs |> Array.map (fun x -> torch.tensor(x, dtype = ScalarType.Float64, requires_grad = true)) |> List.ofArray
let bern (logits: Tensor) = Bernoulli.FromLogits(logits) :> Distribution

/// The sum over plate i (dim −1) of a tensor, kept at the run's rank: with particles every value has the full rank.
let sumI (t: Tensor) = if t.Dimensions > 1 then t.sum(-1L, true) else t.sum(-1L)

/// A closed-form model: the model for a choice of estimator per site, its exact objective, and what a learned
/// baseline of each site reads (inputs, features, feature width).
type CfModel =
    { Name: string
      Theta0: float[]
      Sites: string list
      Nesting: int
      Build: (string -> SiteEstimator) -> Tensor list -> Model<unit>
      Exact: Tensor list -> Tensor
      Learned: string -> string list * (IReadOnlyList<Tensor> -> Tensor) * int64 }

let unary (vs: IReadOnlyList<Tensor>) = vs.[0].to_type(ScalarType.Float64).unsqueeze(-1)
let constantFeature (_: IReadOnlyList<Tensor>) = torch.ones([| 1L |], dtype = ScalarType.Float64)

// ---------------------------------------------------------------------------------------------------------
// Model P: several score-function sites in a plate, costs at depths 0, 1, 2

let beta = [| 0.4; -0.6; 0.1 |]
let catU = [| 0.2; -0.4; 0.7 |]
let catV = [| 0.5; 0.0; -0.5 |]
let catVals = [| 1.0; -0.5; 2.0 |]
let wj = [| 0.6; -1.2 |]

let modelP =
    let build (est: string -> SiteEstimator) (leaves: Tensor list) =
        let th = Array.ofList leaves
        mb {
            let! a = Model.Sample("a", bern th.[0], est "a")
            let! struct (y, _) =
                Model.Plate("i", 3L,
                    mb {
                        let! y = Model.Sample("y", bern (th.[1] + vec beta + a * 0.8), est "y")
                        let! _ = Model.Cost("ci", (y - 0.3) * (a + 1.0) + th.[2] * y)
                        let logits = th.[2] * vec catU + y.unsqueeze(-1) * vec catV
                        let! z = Model.Sample("z", Categorical.FromLogits(logits), est "z")
                        let! _ =
                            Model.Plate("j", 2L,
                                mb {
                                    let! c = Model.Cost("cij", (vec catVals).[z] * (vec wj).reshape(2L, 1L) + y * a)
                                    return c
                                }, -2)
                        return struct (y, z)
                    }, -1)
            let sy = sumI y
            let! _ = Model.Cost("c0", sy * (a + 0.5) + th.[3].square())
            let! d = Model.Sample("d", bern (th.[3] + sy * 0.5), est "d")
            let! _ = Model.Cost("cd", d * 2.0 - a)
            return ()
        }
    let exact (leaves: Tensor list) =
        let th = Array.ofList leaves
        let mutable total = f64 0.0
        for a in [ 0.0; 1.0 ] do
            let pa = if a = 1.0 then th.[0].sigmoid() else 1.0 - th.[0].sigmoid()
            let py1 = (th.[1] + vec beta + 0.8 * a).sigmoid()
            for row in 0 .. 7 do
                let ys = Array.init 3 (fun i -> float ((row >>> i) &&& 1))
                let yv = vec ys
                let p = pa * (yv * py1 + (1.0 - yv) * (1.0 - py1)).prod()
                let ci = ((yv - 0.3) * (1.0 + a) + th.[2] * yv).sum()
                // E[vals[z_i] | y_i] for each i, then Σ_i Σ_j (w_j E[vals[z_i]] + y_i a)
                let ez = (th.[2] * vec catU + yv.unsqueeze(-1) * vec catV).softmax(-1).matmul(vec catVals)
                let cij = ez.sum() * (Array.sum wj) + yv.sum() * a * 2.0
                let sy = Array.sum ys
                let c0 = sy * (a + 0.5) + th.[3].square()
                let cd = (th.[3] + 0.5 * sy).sigmoid() * 2.0 - a
                total <- total + p * (ci + cij + c0 + cd)
        total
    let learned =
        function
        | "a" -> [], constantFeature, 1L
        | "y" -> [ "a" ], unary, 1L
        | "z" ->
            [ "a"; "y" ],
            (fun (vs: IReadOnlyList<Tensor>) ->
                let y = vs.[1].to_type(ScalarType.Float64)
                torch.stack([| vs.[0].to_type(ScalarType.Float64).expand_as(y); y |], -1L)),
            2L
        | "d" -> [ "y" ], (fun vs -> (sumI (vs.[0].to_type(ScalarType.Float64))).unsqueeze(-1)), 1L
        | s -> failwithf "no site %s" s
    { Name = "P"; Theta0 = [| 0.2; -0.3; 0.5; 0.1 |]; Sites = [ "a"; "y"; "z"; "d" ]; Nesting = 2
      Build = build; Exact = exact; Learned = learned }

// ---------------------------------------------------------------------------------------------------------
// Model Z: an independent product

let kappa = [| 0.5; -0.7 |]

/// E[Q | site, non-descendants] for the sites of Z: Q_x = cu + cv + cuv, Q_u = cu + cuv, Q_v = cv + cuv.
let zCritic (th: Tensor[]) (site: SampleNode) (trace: Trace) =
    let x = trace.Sample("x").Value
    let pu = (th.[1] + x).sigmoid()
    let pv = (th.[0] - th.[1] + vec kappa).sigmoid()
    let spv = pv.sum()
    match site.Name with
    | "x" -> pu * 2.0 + x + (pv - 0.5).sum() * 3.0 + pu * spv
    | "u" -> site.Value * 2.0 + x + site.Value * spv
    | "v" -> (site.Value - 0.5) * 3.0 + pu * sumI site.Value
    | s -> failwithf "no site %s" s

let modelZ =
    let build (est: string -> SiteEstimator) (leaves: Tensor list) =
        let th = Array.ofList leaves
        mb {
            let! x = Model.Sample("x", bern th.[0], est "x")
            let branchA =
                mb {
                    let! u = Model.Sample("u", bern (th.[1] + x), est "u")
                    let! _ = Model.Cost("cu", u * 2.0 + x)
                    return u
                }
            let branchB =
                Model.Plate("k", 2L,
                    mb {
                        let! v = Model.Sample("v", bern (th.[0] - th.[1] + vec kappa), est "v")
                        let! _ = Model.Cost("cv", (v - 0.5) * 3.0)
                        return v
                    }, -1)
            let! struct (u, v) = Model.Zip(branchA, branchB)
            let! _ = Model.Cost("cuv", u * sumI v)
            return ()
        }
    let exact (leaves: Tensor list) =
        let th = Array.ofList leaves
        let pv = (th.[0] - th.[1] + vec kappa).sigmoid()
        let mutable total = f64 0.0
        for x in [ 0.0; 1.0 ] do
            let px = if x = 1.0 then th.[0].sigmoid() else 1.0 - th.[0].sigmoid()
            let pu = (th.[1] + x).sigmoid()
            total <- total + px * (pu * 2.0 + x + (pv - 0.5).sum() * 3.0 + pu * pv.sum())
        total
    let learned =
        function
        | "x" -> [], constantFeature, 1L
        | "u" | "v" -> [ "x" ], unary, 1L
        | s -> failwithf "no site %s" s
    { Name = "Z"; Theta0 = [| 0.3; -0.4 |]; Sites = [ "x"; "u"; "v" ]; Nesting = 1
      Build = build; Exact = exact; Learned = learned }

// ---------------------------------------------------------------------------------------------------------
// Model S (for the estimators that must be rejected)

/// The value of u in the latest run, for a learned baseline that sneaks it in through its features' closure.
type Sneak = { mutable U: Tensor }

let modelS (sneak: Sneak) =
    let build (est: string -> SiteEstimator) (leaves: Tensor list) =
        let th = Array.ofList leaves
        mb {
            let! x = Model.Sample("x", bern th.[0], est "x")
            let! u = Model.Sample("u", bern (th.[1] + x), est "u")
            sneak.U <- u
            let! _ = Model.Cost("c", u * 2.0 + x + u * x + 1.0)
            return ()
        }
    let exact (leaves: Tensor list) =
        let th = Array.ofList leaves
        let mutable total = f64 0.0
        for x in [ 0.0; 1.0 ] do
            let px = if x = 1.0 then th.[0].sigmoid() else 1.0 - th.[0].sigmoid()
            total <- total + px * ((th.[1] + x).sigmoid() * (2.0 + x) + x + 1.0)
        total
    { Name = "S"; Theta0 = [| 0.25; -0.5 |]; Sites = [ "x"; "u" ]; Nesting = 0
      Build = build; Exact = exact; Learned = fun _ -> [ "x" ], unary, 1L }

/// ∇θ Σ_x p(x) E[u | x] with p(x) detached: the expected gradient of log p(u | x) · u.
let scoreOfU (leaves: Tensor list) =
    let th = Array.ofList leaves
    let px1 = th.[0].sigmoid().detach()
    px1 * (th.[1] + 1.0).sigmoid() + (1.0 - px1) * th.[1].sigmoid()

/// E[Q_x | x] for model S (Q_x = Q_u = the one cost): exact.
let sCriticX (th: Tensor[]) (site: SampleNode) (_: Trace) =
    let x = site.Value
    (th.[1] + x).sigmoid() * (x + 2.0) + x + 1.0

/// g* = ∇θ J at θ0.
let exactGradient (m: CfModel) =
    use scope = torch.NewDisposeScope()
    let leaves = leavesOf m.Theta0
    Stats.gradOf (m.Exact leaves) leaves

