/// Random PLATED programs as Scg models: every form evaluated on the sampled values, element by element on shared
/// plates (see PlatedProgram.fs for what a program holds).
module Scg.Verification.PlatedModel

open System
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Estimators
open Scg.Verification.GraphTensors
open Scg.Verification.PlatedProgram

// ---------------------------------------------------------------------------------------------------------
// The program as a Scg model

/// Where a node is evaluated: its plates, and the rank its tensors have (the particle frame, when K ≥ 1).
type Ctx = { Plates: PlateDef list; Rank: int }

/// Column o of a row-major rows × out weight matrix, as a float64 vector.
let columnOf (w: float[]) (out: int) (rows: int) (o: int) = f64 (Array.init rows (fun r -> w.[r * out + o]))

/// Site j's value as read by a node in ctx, for coordinate o of a form with weights w: element by element on
/// shared plates, summed over the site's other plates and over its extra dimension.
let readSite (g: Program) (vals: Map<int, Tensor>) (ctx: Ctx) (j: int) (w: float[]) (out: int) (o: int) =
    let site = g.Sites.[j]
    let v = vals.[j]
    let mutable feat =
        match site.Kind with
        | PCat _ -> torch.nn.functional.one_hot(v, 3L).to_type(ScalarType.Float64).matmul(columnOf w out 3 o)
        | _ -> v * w.[o]
    feat <-
        match site.Extra with
        | EventDim _ -> feat.sum(-1L)
        | BatchDim _ -> feat.sum(-1L, true)
        | NoExtra -> feat
    for q in site.Plates do
        if not (ctx.Plates |> List.exists (fun a -> a.Name = q.Name)) then feat <- feat.sum(int64 q.Dim, true)
    let r = feat.shape.Length
    if r > ctx.Rank then
        let lead = feat.shape.[.. r - ctx.Rank - 1]
        // dims left of the frame are size 1, unless enumerated sites put their supports there: keep those
        // (dropping only the size-1 ones would move the enumeration dims onto the frame)
        if lead |> Array.exists (fun s -> s <> 1L) then feat
        else feat.reshape(feat.shape.[r - ctx.Rank ..])
    else feat

/// Coordinate o of a form, broadcastable to ctx's frame.
let evalCoord (g: Program) (theta: Tensor) (vals: Map<int, Tensor>) (ctx: Ctx) (f: PForm) (o: int) =
    let frame = frameShape ctx.Plates
    let bias = (f64 (Array.init (numel frame) (fun e -> f.PBias.[e * f.POut + o]))).reshape(frame)
    let mutable acc = bias + theta.matmul(columnOf f.PTheta f.POut g.P o)
    for (j, w) in f.PParents do
        acc <- acc + readSite g vals ctx j w f.POut o
    acc

/// A form evaluated in ctx: [frame] for one output, [frame, out] for several.
let evalForm g theta vals ctx (f: PForm) =
    if f.POut = 1 then evalCoord g theta vals ctx f 0
    else
        let cs = Array.init f.POut (evalCoord g theta vals ctx f)
        let common = cs |> Array.reduce (+)
        torch.stack(cs |> Array.map (fun c -> c.expand(common.shape)), -1L)

/// A tensor with the per-element offsets of an extra batch or event dimension added.
let withExtra (extra: Extra) (offsets: float[]) (t: Tensor) =
    match extra with
    | NoExtra -> t
    | BatchDim _ -> t + f64 offsets
    | EventDim _ -> t.unsqueeze(-1) + f64 offsets

/// A scale evaluated in ctx (a constant, or exp of a form), with an event dimension where the node has one.
let scaleOf g theta vals ctx (extra: Extra) = function
    | PConst v -> torch.tensor(v, dtype = ScalarType.Float64)
    | PExp f ->
        let s = (evalForm g theta vals ctx f).exp()
        match extra with EventDim _ -> s.unsqueeze(-1) | _ -> s

/// Normal(mean, scale), made an event of rank 1 for an EventDim.
let normalOf (mean: Tensor) (scale: Tensor) (extra: Extra) : Distribution =
    let d = Normal(mean, scale)
    match extra with EventDim _ -> d.ToEvent(1) | _ -> d :> Distribution

/// The program as a model (see toPlatedModelWith); with `scoped`, each body of a product runs in a Model.Scope of
/// its own ("zN.a" and "zN.b" for the N-th product in program order), so its nodes' names carry the prefixes.
let private platedModel (scoped: bool) (estimator: PSite -> SiteEstimator -> SiteEstimator) (g: Program) (k: int) (nesting: int) (leaves: Tensor list) : Model<unit> =
    let products =
        allNodes g.Body
        |> List.choose (function PZip (a, _) as z -> Some z | _ -> None)
        |> List.mapi (fun i z -> z, i)
    let scopeOf (zip: PNode) side (m: Model<'T>) =
        if not scoped then m
        else
            let n = products |> List.find (fun (z, _) -> obj.ReferenceEquals(z, zip)) |> snd
            Model.Scope(sprintf "z%d.%s" n side, m)
    let ctxOf plates = { Plates = plates; Rank = (if k > 0 then nesting + 1 else frameRank plates) }
    let rec block (plates: PlateDef list) (nodes: PNode list) (vals: Map<int, Tensor>) (theta: Tensor) : Model<Map<int, Tensor>> =
        let ctx = ctxOf plates
        match nodes with
        | [] -> mb { return vals }
        | PSiteN s :: rest ->
            mb {
                let dist, est =
                    match s.Kind with
                    | PBern f -> Bernoulli.FromLogits(withExtra s.Extra s.Offsets (evalForm g theta vals ctx f)) :> Distribution, SiteEstimator.Auto
                    | PCat f -> Categorical.FromLogits(evalForm g theta vals ctx f) :> Distribution, SiteEstimator.Auto
                    | PGauss (m, sc, sf) ->
                        normalOf (withExtra s.Extra s.Offsets (evalForm g theta vals ctx m)) (scaleOf g theta vals ctx s.Extra sc) s.Extra,
                        (if sf then SiteEstimator.ScoreFunction else SiteEstimator.Pathwise)
                let! x = Model.Sample(sprintf "x%d" s.Id, dist, estimator s est)
                return! block plates rest (vals.Add(s.Id, x)) theta
            }
        | PCostN c :: rest ->
            mb {
                let y1 = evalForm g theta vals ctx c.Y1
                let y2 = evalForm g theta vals ctx c.Y2
                let y3 = evalForm g theta vals ctx c.Y3
                let! _ = Model.Cost(sprintf "c%d" c.CId, y1 * y2 * c.S + y3)
                return! block plates rest vals theta
            }
        | PObsN o :: rest ->
            mb {
                let mean = withExtra o.OExtra o.OOffsets (evalForm g theta vals ctx o.Mean)
                let dist = normalOf mean (scaleOf g theta vals ctx o.OExtra o.OScale) o.OExtra
                let x = (f64 o.X).reshape(elementShape o.OPlates o.OExtra)
                let! _ = Model.Observe(sprintf "o%d" o.OId, dist, x)
                return! block plates rest vals theta
            }
        | PPlate (q, explicitDim, body) :: rest ->
            mb {
                let dim = if explicitDim then Nullable q.Dim else Nullable()
                let! vals' = Model.Plate(q.Name, int64 q.Size, block (plates @ [ q ]) body vals theta, dim)
                return! block plates rest vals' theta
            }
        | (PZip (a, b) as zip) :: rest ->
            mb {
                let! struct (va, vb) = Model.Zip(scopeOf zip "a" (block plates a vals theta), scopeOf zip "b" (block plates b vals theta))
                let merged = Seq.append (Map.toSeq va) (Map.toSeq vb) |> Map.ofSeq
                return! block plates rest merged theta
            }
    mb {
        let theta = torch.stack(leaves |> Array.ofList)
        let! _ = block [] g.Body Map.empty theta
        return ()
    }

/// The program as a model over the parameter leaves, for K particles and the given MaxPlateNesting; `estimator`
/// may change each site's estimator (given the one the program chooses: Auto, Pathwise or ScoreFunction).
let toPlatedModelWith (estimator: PSite -> SiteEstimator -> SiteEstimator) (g: Program) (k: int) (nesting: int) (leaves: Tensor list) : Model<unit> =
    platedModel false estimator g k nesting leaves

/// The program as a model with the estimators it chooses, each body of a product in a Model.Scope of its own
/// ("zN.a", "zN.b"): the same random draws and surrogate as toPlatedModel, under prefixed names.
let toPlatedModelInScopes (g: Program) (k: int) (nesting: int) (leaves: Tensor list) : Model<unit> =
    platedModel true (fun _ est -> est) g k nesting leaves

/// The program as a model with the estimators it chooses.
let toPlatedModel (g: Program) (k: int) (nesting: int) (leaves: Tensor list) : Model<unit> =
    toPlatedModelWith (fun _ est -> est) g k nesting leaves

/// Float64 scalar leaves at the program's θ0, requiring gradients.
let platedLeaves (g: Program) = leavesAt g.Theta0
