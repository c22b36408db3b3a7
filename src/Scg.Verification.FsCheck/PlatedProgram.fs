/// Random PLATED stochastic computation graphs: the program type and its generator. The program as a Scg model is
/// in PlatedModel.fs, the exact oracle in PlatedOracle.fs, the naive reference surrogate in NaiveSurrogate.fs.
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
/// GeneratorOptions restrict the generator (fewer sites, smaller plates, some site kinds or estimators only, no
/// products, observations or extra dimensions); the default options reproduce it exactly.
module Scg.Verification.PlatedProgram

open System
open System.Collections.Generic
open FsCheck
open FsCheck.FSharp
open Scg.Verification

// ---------------------------------------------------------------------------------------------------------
// Plated programs

/// A plate: its name, size and batch dim (negative).
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

/// A Normal's scale: a positive constant, or exp of a form.
type PScale =
    | PConst of float
    | PExp of PForm

/// A site's distribution: Bernoulli or Categorical(3) by logits, or Normal (mean, scale, score function).
type PKind =
    | PBern of PForm
    | PCat of PForm
    | PGauss of PForm * PScale * bool

/// Offsets: one bias per extra element (added to the logit or mean), empty without extra dims.
type PSite = { Id: int; Kind: PKind; Extra: Extra; Offsets: float[]; Plates: PlateDef list }

/// A cost c = S · Y1 · Y2 + Y3 in the given plates.
type PCost = { CId: int; CPlates: PlateDef list; S: float; Y1: PForm; Y2: PForm; Y3: PForm }

/// An observation of fixed data X ~ Normal(Mean, OScale) in the given plates, with an optional extra dimension.
type PObs = { OId: int; OPlates: PlateDef list; Mean: PForm; OScale: PScale; OExtra: Extra; OOffsets: float[]; X: float[] }

/// A node of a program body: a site, a cost, an observation, a plate holding a body (with or without an explicit dim), or an independent product of two bodies.
type PNode =
    | PSiteN of PSite
    | PCostN of PCost
    | PObsN of PObs
    | PPlate of PlateDef * explicitDim: bool * PNode list
    | PZip of PNode list * PNode list

/// A plated program: parameters θ0, its body, its sites by id, and a seed for its runs.
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

/// The rank of the plates' frame: the deepest plate dim.
let frameRank (plates: PlateDef list) = plates |> List.fold (fun r p -> max r (-p.Dim)) 0

/// The plates' frame shape: plate sizes at their dims, 1 elsewhere.
let frameShape (plates: PlateDef list) =
    let r = frameRank plates
    let shape = Array.create r 1L
    for p in plates do shape.[r + p.Dim] <- int64 p.Size
    shape

/// The number of elements of a shape.
let numel (shape: int64[]) = shape |> Array.fold (*) 1L |> int

/// The size of an extra dimension (1 without one).
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

/// Every node of a body, plates and products included, in program order.
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

/// The names of the program's costs ("c…") and observations ("o…"), in program order.
let costNames (g: Program) =
    allNodes g.Body |> List.choose (function PCostN c -> Some (sprintf "c%d" c.CId) | PObsN o -> Some (sprintf "o%d" o.OId) | _ -> None)

// ---------------------------------------------------------------------------------------------------------
// Generator (imperative, from a seed that FsCheck draws)

/// Cap on the binary digits of the discrete elements in the default options (the oracle enumerates them all).
let maxDiscreteBits = GeneratorOptions.Default.MaxDiscreteBits
/// Cap on the Normal elements in the default options.
let maxNormalElements = GeneratorOptions.Default.MaxNormalElements

/// The program drawn from `seed` under the given options (deterministic: the same seed and options give the same
/// program). The default options give the programs of Scg's own tests.
let makeProgramWith (options: GeneratorOptions) (seed: int) : Program =
    let o = options
    let allows (k: SiteKinds) = o.SiteKinds &&& k = k
    let rnd = Random(seed)
    let coefR lo hi = lo + (hi - lo) * float (rnd.Next(41)) / 40.0
    let chance (p: float) = rnd.NextDouble() < p
    let p = rnd.Next(2, 4)
    let theta0 = Array.init p (fun _ -> coefR -1.0 1.0)
    let pool =
        [ { Name = "i"; Size = rnd.Next(2, o.MaxPlateSize + 1); Dim = -1 }
          { Name = "j"; Size = rnd.Next(2, o.MaxPlateSize + 1); Dim = -2 }
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
        let bernExtra =
            let e = if minusOneFree plates && chance 0.25 then BatchDim (rnd.Next(2, 4)) else NoExtra
            if o.AllowExtraDimensions then e else NoExtra
        let gaussExtra =
            let r = rnd.NextDouble()
            let e =
                if r < 0.2 && minusOneFree plates then BatchDim (rnd.Next(2, 4))
                elif r < 0.4 then EventDim (rnd.Next(2, 4))
                else NoExtra
            if o.AllowExtraDimensions then e else NoExtra
        let id = sites.Count
        let tryDiscrete (weight: float) extra =
            let cost = weight * float (elems * extraSize extra)
            if bits + cost <= o.MaxDiscreteBits then bits <- bits + cost; true else false
        let gauss () =
            if not (allows SiteKinds.Normal) || normals + elems * extraSize gaussExtra > o.MaxNormalElements then None
            else
                normals <- normals + elems * extraSize gaussExtra
                let mean = genForm plates 1 visible 1.0 false
                let scale = genScale plates discrete
                let sf =
                    let drawn = chance 0.4
                    match o.NormalEstimators with
                    | NormalEstimators.Pathwise -> false
                    | NormalEstimators.ScoreFunction -> true
                    | _ -> drawn
                Some { Id = id; Kind = PGauss (mean, scale, sf); Extra = gaussExtra
                       Offsets = Array.init (extraSize gaussExtra) (fun _ -> if gaussExtra = NoExtra then 0.0 else coefR -1.0 1.0)
                       Plates = plates }
        let site =
            // a roll for a kind the options exclude falls to the first allowed discrete kind
            let kindRoll =
                if kindRoll < 3 && not (allows SiteKinds.Bernoulli) then (if allows SiteKinds.Categorical then 3 else 9)
                elif kindRoll >= 3 && kindRoll < 5 && not (allows SiteKinds.Categorical) then (if allows SiteKinds.Bernoulli then 0 else 9)
                elif kindRoll >= 5 && not (allows SiteKinds.Normal) then
                    (if allows SiteKinds.Bernoulli then 0 elif allows SiteKinds.Categorical then 3 else 9)
                else kindRoll
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
            let e =
                if r < 0.2 && minusOneFree plates then BatchDim (rnd.Next(2, 4))
                elif r < 0.4 then EventDim (rnd.Next(2, 4))
                else NoExtra
            if o.AllowExtraDimensions then e else NoExtra
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
            if nodes < o.MaxNodes then
                nodes <- nodes + 1
                let openable = pool |> List.filter (fun q -> plates |> List.forall (fun a -> a.Name <> q.Name && a.Dim <> q.Dim))
                let roll = rnd.Next(20)
                if roll < 6 && sites.Count < o.MaxSites then
                    match genSite plates vis with
                    | Some s -> out.Add(PSiteN s); vis <- vis @ [ s.Id ]
                    | None -> out.Add(genCost plates vis)
                elif roll < 9 then out.Add(genCost plates vis)
                elif roll < 12 then out.Add(if o.AllowObservations then genObs plates vis else genCost plates vis)
                elif roll < 17 && depth < o.MaxPlateDepth && not openable.IsEmpty then
                    let q = openable.[rnd.Next(openable.Length)]
                    let explicitDim = freeDim plates <> q.Dim || chance 0.5
                    let body, vis' = genBlock (plates @ [ q ]) vis (depth + 1) zips (rnd.Next(1, 4))
                    out.Add(PPlate (q, explicitDim, body)); vis <- vis'
                elif o.AllowProducts && zips < 2 then
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

/// The program drawn from `seed` with the default options (the generator of Scg's own tests).
let makeProgram (seed: int) : Program = makeProgramWith GeneratorOptions.Default seed

/// Programs under the given options, from a seed FsCheck draws.
let genProgramWith (options: GeneratorOptions) = Gen.choose (0, Int32.MaxValue) |> Gen.map (makeProgramWith options)

/// Programs with the default options, from a seed FsCheck draws (the generator of Scg's own tests).
let genProgram = genProgramWith GeneratorOptions.Default
