/// Randomised tests of the surrogate on generated PLATED stochastic computation graphs (core-semantics.md,
/// scg-math.md §1, §7). What the generators cover, and what they do not, is summarised in tests/README.md.
///
/// Generator. A program has P ∈ {2, 3} parameters θ (float64 scalars) and a body: a list of nodes, each a sample
/// site, a cost, an observation, a plate holding a body, or an independent product (Model.Zip) of two bodies.
/// Plates come from a pool of three per program, "i" at dim −1, "j" at dim −2, "k" at dim −1 or −3 (sizes 2–3):
/// plates nest (up to two deep), follow each other (siblings, also two different plates at the same dim), and
/// reopen (the same plate opened again later: its elements are shared element by element); a plate opened
/// where its dim is not the default one passes dim explicitly ("j" alone is dim −2 with nothing at −1).
/// Sites are the flat generator's kinds (Bernoulli, Categorical(3), Normal pathwise or score function), with,
/// in part, an extra batch shape: a Bernoulli or Normal with an extra non-plate batch dimension of size 2–3 at
/// −1 (when no open plate holds −1), or a Normal made `.ToEvent(1)` over a trailing dimension. Every form
/// (logits, means, log-scales, costs) is affine in θ and in earlier visible sites, with a bias per plate
/// element (and per extra element): elements are not exchangeable. A node reads an earlier site element by
/// element on the plates they share and through the sum over all other elements (a node outside a plate reads
/// the sum of the plate's elements; extra batch and event dimensions are summed). A product's branches cannot
/// read each other's sites; everything after the product reads both. Costs are s · y1 · y2 + y3 as in the
/// flat generator; observations are Normal(μ, σ) of fixed data with μ affine in earlier sites (Normal ones too)
/// and σ constant or exp of an affine form in θ and discrete sites, with the same extra shapes as sites.
/// Discrete elements are capped at 10 binary digits (Categorical = log2 3) and Normal elements at 24.
/// Each run of the deterministic comparison picks K ∈ {0, 1, 3} particles and MaxPlateNesting = the depth the
/// program needs, or one more. For the z-tests, RandomPlatedBaselines.fs gives every score-function site a random
/// baseline (or none), attached in the model, by override or as the fallback.
///
/// Oracle. The program is unrolled into the flat generator's Graph (one flat site per plate element and extra
/// element, one flat cost per cost element; a node's reads of other plates become affine terms over all the
/// elements it sums) and RandomScgTests.oracleRows evaluates it: enumeration of the discrete elements ×
/// Gaussian closed form. An observation adds E[−log N(x; μ, σ)] = log σ + ½ log 2π + ((x − m)² + |l|²) / 2σ²
/// for μ = m + l·ε Gaussian. J(θ) = E[Σ costs − Σ log p(observations)], g* = ∇θ J by autograd.
///
/// Naive reference. From core-semantics.md, per site and cost pair, O(N²): for every score-function site s and
/// every cost or observation c downstream of s (trace.IsDownstream), c's tensor with the dims of the plates
/// shared with s kept and all other dims summed, laid out on s's plate shape (a shared plate is summed too when a
/// sample, cost or observation n outside it lies between, s ⇝ n ⇝ c: n may read all of s's elements, as in
/// "plated site → global node → reopened plate", which the generator produces); lp_s reduced to s's plate shape;
/// S = (Σ_c sum(c) + Σ_s sum(lp_s · ⊥Q_s)) / K.
///
/// Statistics. As RandomScg: |z| < Stats.zBound = 5 per coordinate (two-sided 5.7e-7 under the null). Under the
/// null this file runs: the particle z-test (M = 40 runs × K = 400 particles), 40 graphs × (2 constructions ×
/// ≤ 3 coordinates + 1 cost) = 280; the K = 0 z-test (600 independent runs), 10 small graphs × (2 × 3 + 1) =
/// 70; the rejection test, the total-cost estimator ≤ 30 × 3 and the calibration of the three broken estimators
/// against their own exact expectations ≤ 30 × 3 × 3, 360. That is ≤ 710 z-tests: the file's false-alarm rate
/// is below 710 × 5.7e-7 < 5e-4 (Bonferroni). The comparisons with the naive reference are deterministic (float64,
/// tolerance 1e-9 relative) and have no false alarms.
/// All seeds are fixed: FsCheck's replay seed, the programs' seeds (drawn by the generator), the sample of
/// programs used by the rejection and K = 0 tests.
module Scg.Tests.RandomPlatedPrograms

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
open Scg.Tests.RandomScgTests

type Tensor = TorchSharp.torch.Tensor
type Generator = TorchSharp.torch.Generator
type ScalarType = TorchSharp.torch.ScalarType

// ---------------------------------------------------------------------------------------------------------
// Plated programs

type PlateDef = { Name: string; Size: int; Dim: int }

/// Dimensions a site or observation has beyond its plates' frame.
type Extra =
    | NoExtra
    /// A non-plate batch dimension of this size at −1 (only where no open plate holds −1).
    | BatchDim of int
    /// A trailing event dimension of this size (Normal(..).ToEvent(1)).
    | EventDim of int

/// An affine form evaluated inside a frame: Bias holds (frame elements × Out) values, row-major with Out
/// fastest; Theta is P × Out; a parent's weights are featureDim × Out as in the flat generator.
type PForm =
    { POut: int
      PBias: float[]
      PTheta: float[]
      PParents: (int * float[]) list }

type PScale =
    | PConst of float
    | PExp of PForm

type PKind =
    | PBern of PForm
    | PCat of PForm
    | PGauss of PForm * PScale * bool

/// Offsets: one bias per extra element (added to the logit or mean), empty without extra dims.
type PSite = { Id: int; Kind: PKind; Extra: Extra; Offsets: float[]; Plates: PlateDef list }

type PCost = { CId: int; CPlates: PlateDef list; S: float; Y1: PForm; Y2: PForm; Y3: PForm }

type PObs = { OId: int; OPlates: PlateDef list; Mean: PForm; OScale: PScale; OExtra: Extra; OOffsets: float[]; X: float[] }

type PNode =
    | PSiteN of PSite
    | PCostN of PCost
    | PObsN of PObs
    | PPlate of PlateDef * explicitDim: bool * PNode list
    | PZip of PNode list * PNode list

type Program =
    { Theta0: float[]
      Body: PNode list
      Sites: PSite[]
      Seed: uint64 }

    member g.P = g.Theta0.Length

    override g.ToString() =
        let form (f: PForm) = sprintf "{b=%A θ=%A par=%A}" f.PBias f.PTheta (f.PParents |> List.map (fun (j, w) -> sprintf "x%d:%A" j w))
        let scale = function PConst v -> sprintf "%g" v | PExp f -> "exp " + form f
        let extra = function NoExtra -> "" | BatchDim e -> sprintf " batch+[%d]" e | EventDim e -> sprintf " event [%d]" e
        let rec lines ind (body: PNode list) =
            [ for n in body do
                match n with
                | PSiteN s ->
                    let k =
                        match s.Kind with
                        | PBern f -> "Bernoulli(logit " + form f + ")"
                        | PCat f -> "Categorical(logits " + form f + ")"
                        | PGauss (m, sc, sf) -> sprintf "Normal(%s, %s)%s" (form m) (scale sc) (if sf then " [score function]" else "")
                    yield sprintf "%sx%d ~ %s%s off=%A" ind s.Id k (extra s.Extra) s.Offsets
                | PCostN c -> yield sprintf "%sc%d = %g * %s * %s + %s" ind c.CId c.S (form c.Y1) (form c.Y2) (form c.Y3)
                | PObsN o -> yield sprintf "%so%d: observe %A ~ Normal(%s, %s)%s off=%A" ind o.OId o.X (form o.Mean) (scale o.OScale) (extra o.OExtra) o.OOffsets
                | PPlate (p, explicitDim, b) ->
                    yield sprintf "%splate %s[%d] at %d%s {" ind p.Name p.Size p.Dim (if explicitDim then " (explicit)" else "")
                    yield! lines (ind + "  ") b
                    yield ind + "}"
                | PZip (a, b) ->
                    yield ind + "zip {"
                    yield! lines (ind + "  ") a
                    yield ind + "} with {"
                    yield! lines (ind + "  ") b
                    yield ind + "}" ]
        sprintf "θ0 = %A, seed %d\n  %s" g.Theta0 g.Seed (String.Join("\n  ", lines "" g.Body))

let frameRank (plates: PlateDef list) = plates |> List.fold (fun r p -> max r (-p.Dim)) 0

let frameShape (plates: PlateDef list) =
    let r = frameRank plates
    let shape = Array.create r 1L
    for p in plates do shape.[r + p.Dim] <- int64 p.Size
    shape

let numel (shape: int64[]) = shape |> Array.fold (*) 1L |> int

let extraSize = function NoExtra -> 1 | BatchDim e | EventDim e -> e

/// The shape of a node's elements: its plates' frame and its extra dimension.
let elementShape (plates: PlateDef list) (extra: Extra) =
    let frame = frameShape plates
    match extra with
    | NoExtra -> frame
    | BatchDim e -> if frame.Length = 0 then [| int64 e |] else Array.append frame.[.. frame.Length - 2] [| int64 e |]
    | EventDim e -> Array.append frame [| int64 e |]

/// Batch rank a node needs (for MaxPlateNesting): its frame, and −1 for an extra batch dimension.
let batchRank (plates: PlateDef list) (extra: Extra) =
    match extra with
    | BatchDim _ -> max 1 (frameRank plates)
    | _ -> frameRank plates

let rec allNodes (body: PNode list) =
    [ for n in body do
        match n with
        | PPlate (_, _, b) -> yield n; yield! allNodes b
        | PZip (a, b) -> yield n; yield! allNodes a; yield! allNodes b
        | _ -> yield n ]

/// The MaxPlateNesting a program needs.
let neededNesting (g: Program) =
    allNodes g.Body
    |> List.map (function
        | PSiteN s -> batchRank s.Plates s.Extra
        | PCostN c -> frameRank c.CPlates
        | PObsN o -> batchRank o.OPlates o.OExtra
        | PPlate (p, _, _) -> -p.Dim
        | PZip _ -> 0)
    |> List.fold max 0

let costNames (g: Program) =
    allNodes g.Body |> List.choose (function PCostN c -> Some (sprintf "c%d" c.CId) | PObsN o -> Some (sprintf "o%d" o.OId) | _ -> None)

// ---------------------------------------------------------------------------------------------------------
// Generator (imperative, from a seed that FsCheck draws)

let maxDiscreteBits = 10.0
let maxNormalElements = 24

let makeProgram (seed: int) : Program =
    let rnd = Random(seed)
    let coefR lo hi = lo + (hi - lo) * float (rnd.Next(41)) / 40.0
    let chance (p: float) = rnd.NextDouble() < p
    let p = rnd.Next(2, 4)
    let theta0 = Array.init p (fun _ -> coefR -1.0 1.0)
    let pool =
        [ { Name = "i"; Size = rnd.Next(2, 4); Dim = -1 }
          { Name = "j"; Size = rnd.Next(2, 4); Dim = -2 }
          { Name = "k"; Size = 2; Dim = (if chance 0.5 then -1 else -3) } ]
    let sites = List<PSite>()
    let mutable bits = 0.0
    let mutable normals = 0
    let mutable nodes = 0
    let mutable costs = 0
    let featureDimOf j = match sites.[j].Kind with PCat _ -> 3 | _ -> 1
    let isDisc j = match sites.[j].Kind with PGauss _ -> false | _ -> true
    let genForm (plates: PlateDef list) (out: int) (eligible: int list) (range: float) (forceParent: bool) : PForm =
        let n = numel (frameShape plates)
        let bias = Array.init (n * out) (fun _ -> coefR -1.0 1.0)
        let used = Array.init p (fun _ -> chance 0.7)
        let theta = Array.init (p * out) (fun i -> if used.[i / out] then coefR -range range else 0.0)
        let mutable parents = eligible |> List.filter (fun _ -> chance 0.4)
        if forceParent && parents.IsEmpty && not eligible.IsEmpty then
            parents <- [ eligible.[rnd.Next(eligible.Length)] ]
        let ws = parents |> List.map (fun j -> j, Array.init (featureDimOf j * out) (fun _ -> coefR -range range))
        { POut = out; PBias = bias; PTheta = theta; PParents = ws }
    let genScale plates discrete =
        if chance 0.5 then PConst (coefR 0.3 1.5)
        else
            let f = genForm plates 1 discrete 0.5 false
            PExp { f with PBias = f.PBias |> Array.map (fun b -> -0.35 + 0.65 * b) }
    let minusOneFree (plates: PlateDef list) = plates |> List.forall (fun q -> q.Dim <> -1)
    let genSite (plates: PlateDef list) (visible: int list) : PSite option =
        let discrete = visible |> List.filter isDisc
        let elems = numel (frameShape plates)
        let kindRoll = rnd.Next(10)
        let bernExtra = if minusOneFree plates && chance 0.25 then BatchDim (rnd.Next(2, 4)) else NoExtra
        let gaussExtra =
            let r = rnd.NextDouble()
            if r < 0.2 && minusOneFree plates then BatchDim (rnd.Next(2, 4))
            elif r < 0.4 then EventDim (rnd.Next(2, 4))
            else NoExtra
        let id = sites.Count
        let tryDiscrete (weight: float) extra =
            let cost = weight * float (elems * extraSize extra)
            if bits + cost <= maxDiscreteBits then bits <- bits + cost; true else false
        let gauss () =
            if normals + elems * extraSize gaussExtra > maxNormalElements then None
            else
                normals <- normals + elems * extraSize gaussExtra
                let mean = genForm plates 1 visible 1.0 false
                let scale = genScale plates discrete
                let sf = chance 0.4
                Some { Id = id; Kind = PGauss (mean, scale, sf); Extra = gaussExtra
                       Offsets = Array.init (extraSize gaussExtra) (fun _ -> if gaussExtra = NoExtra then 0.0 else coefR -1.0 1.0)
                       Plates = plates }
        let site =
            if kindRoll < 3 && tryDiscrete 1.0 bernExtra then
                Some { Id = id; Kind = PBern (genForm plates 1 discrete 1.0 false); Extra = bernExtra
                       Offsets = Array.init (extraSize bernExtra) (fun _ -> if bernExtra = NoExtra then 0.0 else coefR -1.0 1.0)
                       Plates = plates }
            elif kindRoll >= 3 && kindRoll < 5 && tryDiscrete (Math.Log(3.0, 2.0)) NoExtra then
                Some { Id = id; Kind = PCat (genForm plates 3 discrete 1.0 false); Extra = NoExtra; Offsets = [| 0.0 |]; Plates = plates }
            else gauss ()
        site |> Option.iter sites.Add
        site
    let genCost plates visible =
        let id = costs
        costs <- costs + 1
        let y1 = genForm plates 1 visible 1.0 true
        let y2 = if chance 0.5 then y1 else genForm plates 1 visible 1.0 false
        PCostN { CId = id; CPlates = plates; S = coefR -1.0 1.0; Y1 = y1; Y2 = y2; Y3 = genForm plates 1 visible 1.0 false }
    let genObs plates visible =
        let id = costs
        costs <- costs + 1
        let discrete = visible |> List.filter isDisc
        let extra =
            let r = rnd.NextDouble()
            if r < 0.2 && minusOneFree plates then BatchDim (rnd.Next(2, 4))
            elif r < 0.4 then EventDim (rnd.Next(2, 4))
            else NoExtra
        let n = numel (elementShape plates extra)
        PObsN { OId = id; OPlates = plates; Mean = genForm plates 1 visible 1.0 true; OScale = genScale plates discrete
                OExtra = extra; OOffsets = Array.init (extraSize extra) (fun _ -> if extra = NoExtra then 0.0 else coefR -1.0 1.0)
                X = Array.init n (fun _ -> coefR -2.0 2.0) }
    let freeDim (plates: PlateDef list) =
        let mutable d = -1
        while plates |> List.exists (fun q -> q.Dim = d) do d <- d - 1
        d
    /// A body in the given plates; returns its nodes and the sites visible after it.
    let rec genBlock (plates: PlateDef list) (visible: int list) (depth: int) (zips: int) (items: int) =
        let mutable vis = visible
        let out = List<PNode>()
        for _ in 1 .. items do
            if nodes < 16 then
                nodes <- nodes + 1
                let openable = pool |> List.filter (fun q -> plates |> List.forall (fun a -> a.Name <> q.Name && a.Dim <> q.Dim))
                let roll = rnd.Next(20)
                if roll < 6 && sites.Count < 7 then
                    match genSite plates vis with
                    | Some s -> out.Add(PSiteN s); vis <- vis @ [ s.Id ]
                    | None -> out.Add(genCost plates vis)
                elif roll < 9 then out.Add(genCost plates vis)
                elif roll < 12 then out.Add(genObs plates vis)
                elif roll < 17 && depth < 2 && not openable.IsEmpty then
                    let q = openable.[rnd.Next(openable.Length)]
                    let explicitDim = freeDim plates <> q.Dim || chance 0.5
                    let body, vis' = genBlock (plates @ [ q ]) vis (depth + 1) zips (rnd.Next(1, 4))
                    out.Add(PPlate (q, explicitDim, body)); vis <- vis'
                elif zips < 2 then
                    let a, va = genBlock plates vis depth (zips + 1) (rnd.Next(1, 3))
                    let b, vb = genBlock plates vis depth (zips + 1) (rnd.Next(1, 3))
                    let added l = l |> List.filter (fun s -> not (List.contains s vis))
                    out.Add(PZip (a, b)); vis <- vis @ added va @ added vb
                else out.Add(genCost plates vis)
        List.ofSeq out, vis
    let body, vis = genBlock [] [] 0 0 (rnd.Next(3, 6))
    let hasPlate = allNodes body |> List.exists (function PPlate _ -> true | _ -> false)
    let body, vis =
        if hasPlate then body, vis
        else
            let q = pool.[rnd.Next(pool.Length)]
            let b, vis' = genBlock [ q ] vis 1 0 (rnd.Next(1, 3))
            body @ [ PPlate (q, q.Dim <> -1 || chance 0.5, b @ [ genCost [ q ] vis' ]) ], vis'
    let body = if chance 0.5 || costs = 0 then body @ [ genCost [] vis ] else body
    { Theta0 = theta0; Body = body; Sites = sites.ToArray(); Seed = uint64 (rnd.Next(1, Int32.MaxValue)) }

let genProgram = Gen.choose (0, Int32.MaxValue) |> Gen.map makeProgram

// ---------------------------------------------------------------------------------------------------------
// The program as a Scg model

/// Where a node is evaluated: its plates, and the rank its tensors have (the particle frame, when K ≥ 1).
type Ctx = { Plates: PlateDef list; Rank: int }

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

let evalForm g theta vals ctx (f: PForm) =
    if f.POut = 1 then evalCoord g theta vals ctx f 0
    else
        let cs = Array.init f.POut (evalCoord g theta vals ctx f)
        let common = cs |> Array.reduce (+)
        torch.stack(cs |> Array.map (fun c -> c.expand(common.shape)), -1L)

let withExtra (extra: Extra) (offsets: float[]) (t: Tensor) =
    match extra with
    | NoExtra -> t
    | BatchDim _ -> t + f64 offsets
    | EventDim _ -> t.unsqueeze(-1) + f64 offsets

let scaleOf g theta vals ctx (extra: Extra) = function
    | PConst v -> torch.tensor(v, dtype = ScalarType.Float64)
    | PExp f ->
        let s = (evalForm g theta vals ctx f).exp()
        match extra with EventDim _ -> s.unsqueeze(-1) | _ -> s

let normalOf (mean: Tensor) (scale: Tensor) (extra: Extra) : Distribution =
    let d = Normal(mean, scale)
    match extra with EventDim _ -> d.ToEvent(1) | _ -> d :> Distribution

/// The program as a model over the parameter leaves, for K particles and the given MaxPlateNesting; `estimator`
/// may change each site's estimator (given the one the program chooses: Auto, Pathwise or ScoreFunction).
let toPlatedModelWith (estimator: PSite -> SiteEstimator -> SiteEstimator) (g: Program) (k: int) (nesting: int) (leaves: Tensor list) : Model<unit> =
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
        | PZip (a, b) :: rest ->
            mb {
                let! struct (va, vb) = Model.Zip(block plates a vals theta, block plates b vals theta)
                let merged = Seq.append (Map.toSeq va) (Map.toSeq vb) |> Map.ofSeq
                return! block plates rest merged theta
            }
    mb {
        let theta = torch.stack(leaves |> Array.ofList)
        let! _ = block [] g.Body Map.empty theta
        return ()
    }

/// The program as a model with the estimators it chooses.
let toPlatedModel (g: Program) (k: int) (nesting: int) (leaves: Tensor list) : Model<unit> =
    toPlatedModelWith (fun _ est -> est) g k nesting leaves

let platedLeaves (g: Program) =
    g.Theta0 |> Array.map (fun x -> torch.tensor(x, dtype = ScalarType.Float64, requires_grad = true)) |> List.ofArray
