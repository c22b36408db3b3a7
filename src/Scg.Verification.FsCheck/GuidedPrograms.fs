/// Random GUIDED programs (Guided.Pair, Model.Subsample, Iwae.Build): the program type, its generator and the guide
/// and model it builds; the exact oracle is in GuidedOracle.fs.
///
/// Generator. Four parameters: φ = (θ0, θ1) read only by the guide, θ = (θ2, θ3) read only by the model. One plate
/// "i" at dim −1 (size 2–3; in subsampling mode N = 4–6, run on a minibatch of B < N). L = 1–3 latents in order,
/// each global or in the plate, each a Bernoulli, Categorical(3) or Normal (Normal only in ELBO mode). The guide
/// samples them in order: discrete logits affine in φ and earlier discrete latents, with the score function
/// (sometimes a leave-one-out baseline) or, for a global one in ELBO mode, enumeration; a Normal's mean affine in
/// φ and every earlier latent, its scale constant or exp of an affine form in φ and earlier discrete latents,
/// pathwise. The model samples the same names in the same plates, in the same order: priors affine in θ and in
/// earlier latents (the same restrictions; every third site, when it is a Normal, has the prior N(0, 1), built with
/// Normal.Standard), then 1–3 Normal observations of fixed data (mean affine in θ and the
/// latents, scale constant or exp(θ, discrete latents)), global or in the plate, and 0–1 cost s·y1·y2 + y3. A
/// plated node reads a plated latent element by element; a global observation or cost reads the sum of its
/// elements (not in subsampling mode: a sum over a minibatch would be biased), a global latent too, so a plated
/// latent's credit in a later opening of the plate passes through a global node that mixes its elements
/// (docs/design.md, credit across plate openings). Every plated node opens the plate anew (Model.Plate, or
/// Model.Subsample in subsampling mode: guide and model share one minibatch), with a bias per element, so
/// elements are not exchangeable.
module Scg.Verification.GuidedPrograms

open System
open System.Collections.Generic
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Estimators
open Scg.Objectives
open Scg.Verification.GraphTensors
open Scg.Verification.PlatedProgram
open Scg.Verification.PlatedModel

/// TorchSharp's tensor.
type Tensor = TorchSharp.torch.Tensor
/// TorchSharp's dtype.
type ScalarType = TorchSharp.torch.ScalarType

/// What a guided program is drawn for: the ELBO (Guided.Pair), a subsampled plate, or IWAE with K = 2.
type GMode =
    | ElboMode
    | IwaeMode
    | SubsampleMode

/// A guide site's estimator: score function (with a leave-one-out baseline when set), enumeration or pathwise.
type GEst =
    | GScore of leaveOneOut: bool
    | GEnum
    | GPath

/// A latent: the guide's site (kind PBern/PCat/PGauss, its plates), its estimator, the model's prior (same kind).
type GLatent = { Site: PSite; Est: GEst; Prior: PKind }

/// A guided program: parameters (φ = θ0, θ1 for the guide, θ = θ2, θ3 for the model), the plate, latents, and the model's observations and costs.
type GuidedProgram =
    { Theta0: float[]
      Plate: PlateDef
      /// B when the plate is subsampled.
      Batch: int option
      Latents: GLatent[]
      /// Observations and costs of the model, after its latents.
      Tail: PNode list
      Seed: uint64 }

    /// The guide as a plated Program (for reading sites and for the oracle's unrolling).
    member g.GuideProgram =
        let body = [ for l in g.Latents -> if l.Site.Plates.IsEmpty then PSiteN l.Site else PPlate (g.Plate, false, [ PSiteN l.Site ]) ]
        { Program.Theta0 = g.Theta0; Body = body; Sites = g.Latents |> Array.map (fun l -> l.Site); Seed = g.Seed }

    override g.ToString() =
        let form (f: PForm) = sprintf "{b=%A θ=%A par=%A}" f.PBias f.PTheta (f.PParents |> List.map (fun (j, w) -> sprintf "x%d:%A" j w))
        let scale = function PConst v -> sprintf "%g" v | PExp f -> "exp " + form f
        let kind = function
            | PBern f -> "Bernoulli(logit " + form f + ")"
            | PCat f -> "Categorical(logits " + form f + ")"
            | PGauss (m, s, _) -> sprintf "Normal(%s, %s)" (form m) (scale s)
        let where (ps: PlateDef list) = if ps.IsEmpty then "" else sprintf " in %s[%d]" g.Plate.Name g.Plate.Size
        let lines =
            [ for l in g.Latents do
                yield sprintf "guide x%d ~ %s%s [%A]" l.Site.Id (kind l.Site.Kind) (where l.Site.Plates) l.Est
              for l in g.Latents do
                yield sprintf "model x%d ~ %s%s" l.Site.Id (kind l.Prior) (where l.Site.Plates)
              for n in g.Tail do
                match n with
                | PObsN o -> yield sprintf "observe o%d %A ~ Normal(%s, %s)%s" o.OId o.X (form o.Mean) (scale o.OScale) (where o.OPlates)
                | PCostN c -> yield sprintf "cost c%d = %g * %s * %s + %s%s" c.CId c.S (form c.Y1) (form c.Y2) (form c.Y3) (where c.CPlates)
                | _ -> () ]
        sprintf "θ0 = %A, plate %s[%d]%s, seed %d\n  %s" g.Theta0 g.Plate.Name g.Plate.Size
            (match g.Batch with Some b -> sprintf " subsampled to %d" b | None -> "") g.Seed (String.Join("\n  ", lines))

/// True for a Bernoulli or Categorical kind.
let isDiscreteKind = function PGauss _ -> false | _ -> true

/// N(0, 1) in every element of the plates: a zero form (over `p` parameters) and a unit scale.
let standardPrior (p: int) (plates: PlateDef list) =
    let n = numel (frameShape plates)
    PGauss ({ POut = 1; PBias = Array.zeroCreate n; PTheta = Array.zeroCreate p; PParents = [] }, PConst 1.0, false)

/// True for the kind standardPrior makes (the model runs it as Normal.Standard).
let isStandardPrior = function
    | PGauss (m, PConst 1.0, false) -> m.PParents.IsEmpty && Array.forall ((=) 0.0) m.PBias && Array.forall ((=) 0.0) m.PTheta
    | _ -> false

// ---------------------------------------------------------------------------------------------------------
// Generator

/// The guided program of the given mode drawn from `seed` (deterministic).
let makeGuided (mode: GMode) (seed: int) : GuidedProgram =
    let rnd = Random(seed)
    let coefR lo hi = lo + (hi - lo) * float (rnd.Next(41)) / 40.0
    let chance (p: float) = rnd.NextDouble() < p
    let p = 4
    let theta0 = Array.init p (fun _ -> coefR -1.0 1.0)
    let size = if mode = SubsampleMode then rnd.Next(4, 7) else rnd.Next(2, 4)
    let plate = { Name = "i"; Size = size; Dim = -1 }
    let batch = if mode = SubsampleMode then Some (rnd.Next(1, size)) else None
    let sites = List<PSite>()
    let latents = List<GLatent>()
    let maxBits = match mode with IwaeMode -> 6.0 | _ -> 8.0
    let mutable bits = 0.0
    let mutable normals = 0
    let featureDimOf j = match sites.[j].Kind with PCat _ -> 3 | _ -> 1
    let isDisc j = isDiscreteKind sites.[j].Kind
    /// coords: the parameter coordinates the form may read (φ for the guide, θ for the model).
    let genForm (plates: PlateDef list) (coords: int list) (out: int) (eligible: int list) (range: float) (forceParent: bool) : PForm =
        let n = numel (frameShape plates)
        let bias = Array.init (n * out) (fun _ -> coefR -1.0 1.0)
        let used = Array.init p (fun i -> List.contains i coords && chance 0.8)
        let theta = Array.init (p * out) (fun i -> if used.[i / out] then coefR -range range else 0.0)
        let mutable parents = eligible |> List.filter (fun _ -> chance 0.5)
        if forceParent && parents.IsEmpty && not eligible.IsEmpty then parents <- [ eligible.[rnd.Next(eligible.Length)] ]
        { POut = out; PBias = bias; PTheta = theta
          PParents = parents |> List.map (fun j -> j, Array.init (featureDimOf j * out) (fun _ -> coefR -range range)) }
    let genScale plates coords discrete =
        if chance 0.5 then PConst (coefR 0.4 1.5)
        else
            let f = genForm plates coords 1 discrete 0.4 false
            PExp { f with PBias = f.PBias |> Array.map (fun b -> -0.3 + 0.5 * b) }
    /// The earlier latents a node in `plates` may read.
    /// (Outside the plate, the sum of a plated latent's elements; not in subsampling mode, where a sum over the
    /// minibatch would be biased.)
    let visibleFrom (plates: PlateDef list) (_latent: bool) =
        [ for s in sites do
            if not plates.IsEmpty || s.Plates.IsEmpty || mode <> SubsampleMode then yield s.Id ]
    let nLatents = rnd.Next(1, 4)
    for id in 0 .. nLatents - 1 do
        let plated = chance 0.5
        let plates = if plated then [ plate ] else []
        let elems = if plated then size else 1
        let vis = visibleFrom plates true
        let disc = vis |> List.filter isDisc
        let roll = rnd.Next(10)
        let tryBits w = if bits + w * float elems <= maxBits then bits <- bits + w * float elems; true else false
        let kinds =
            if roll < 4 && tryBits 1.0 then
                Some (PBern (genForm plates [ 0; 1 ] 1 disc 1.0 false), PBern (genForm plates [ 2; 3 ] 1 disc 1.0 false))
            elif roll >= 4 && roll < 6 && tryBits (Math.Log(3.0, 2.0)) then
                Some (PCat (genForm plates [ 0; 1 ] 3 disc 1.0 false), PCat (genForm plates [ 2; 3 ] 3 disc 1.0 false))
            elif mode = ElboMode && normals + elems <= 4 then
                normals <- normals + elems
                let q = PGauss (genForm plates [ 0; 1 ] 1 vis 1.0 false, genScale plates [ 0; 1 ] disc, false)
                let prior = PGauss (genForm plates [ 2; 3 ] 1 vis 1.0 false, genScale plates [ 2; 3 ] disc, false)
                // every third Normal latent gets the prior N(0, 1), run as Normal.Standard; the prior above is still
                // drawn, so the programs after it are the ones this generator always made
                Some (q, (if sites.Count % 3 = 2 then standardPrior p plates else prior))
            elif tryBits 1.0 then
                Some (PBern (genForm plates [ 0; 1 ] 1 disc 1.0 false), PBern (genForm plates [ 2; 3 ] 1 disc 1.0 false))
            else None
        match kinds with
        | None -> ()
        | Some (q, prior) ->
            let site = { Id = sites.Count; Kind = q; Extra = NoExtra; Offsets = [| 0.0 |]; Plates = plates }
            let est =
                match q with
                | PGauss _ -> GPath
                | _ when mode = ElboMode && not plated && chance 0.3 -> GEnum
                | _ -> GScore (chance 0.3)
            sites.Add site
            latents.Add { Site = site; Est = est; Prior = prior }
    let mutable nextId = 0
    let tail =
        [ let nObs = rnd.Next(1, 4)
          for o in 0 .. nObs - 1 do
              let plated = (mode = SubsampleMode && o = 0) || chance 0.5
              let plates = if plated then [ plate ] else []
              let vis = visibleFrom plates false
              nextId <- nextId + 1
              yield PObsN { OId = nextId; OPlates = plates; Mean = genForm plates [ 2; 3 ] 1 vis 1.0 true
                            OScale = genScale plates [ 2; 3 ] (vis |> List.filter isDisc); OExtra = NoExtra; OOffsets = [| 0.0 |]
                            X = Array.init (if plated then size else 1) (fun _ -> coefR -2.0 2.0) }
          if chance 0.5 then
              let plates = if chance 0.5 then [ plate ] else []
              let vis = visibleFrom plates false
              nextId <- nextId + 1
              let y1 = genForm plates [ 2; 3 ] 1 vis 1.0 true
              yield PCostN { CId = nextId; CPlates = plates; S = coefR -0.5 0.5; Y1 = y1
                             Y2 = (if chance 0.5 then y1 else genForm plates [ 2; 3 ] 1 vis 1.0 false); Y3 = genForm plates [ 2; 3 ] 1 vis 1.0 false } ]
    { Theta0 = theta0; Plate = plate; Batch = batch; Latents = latents.ToArray(); Tail = tail; Seed = uint64 (rnd.Next(1, Int32.MaxValue)) }

// ---------------------------------------------------------------------------------------------------------
// The program as a guide and a model

/// The plated context of every node: K ≥ 1 particles at dim −2, the plate at −1.
let private ctxOf (plates: PlateDef list) = { Plates = plates; Rank = 2 }

/// A form evaluated in `plates`; on a minibatch (`sel`), the per-element biases of the plate are selected.
let evalFormSel (gp: Program) (theta: Tensor) (vals: Map<int, Tensor>) (plates: PlateDef list) (sel: Tensor option) (f: PForm) =
    let ctx = ctxOf plates
    let coord o =
        let frame = frameShape plates
        let bias = (f64 (Array.init (numel frame) (fun e -> f.PBias.[e * f.POut + o]))).reshape(frame)
        let bias = match sel with Some idx when not plates.IsEmpty -> bias.index_select(0L, idx) | _ -> bias
        let mutable acc = bias + theta.matmul(columnOf f.PTheta f.POut gp.P o)
        for (j, w) in f.PParents do
            acc <- acc + readSite gp vals ctx j w f.POut o
        acc
    if f.POut = 1 then coord 0
    else
        let cs = Array.init f.POut coord
        let common = cs |> Array.reduce (+)
        torch.stack(cs |> Array.map (fun c -> c.expand(common.shape)), -1L)

let private distOfKind gp theta vals plates sel (kind: PKind) : Distribution =
    match kind with
    | PBern f -> Bernoulli.FromLogits(evalFormSel gp theta vals plates sel f) :> Distribution
    | PCat f -> Categorical.FromLogits(evalFormSel gp theta vals plates sel f) :> Distribution
    | PGauss (m, _, _) when isStandardPrior kind ->
        Normal.Standard((evalFormSel gp theta vals plates sel m).shape, ScalarType.Float64) :> Distribution
    | PGauss (m, sc, _) ->
        let scale =
            match sc with
            | PConst v -> torch.tensor(v, dtype = ScalarType.Float64)
            | PExp f -> (evalFormSel gp theta vals plates sel f).exp()
        Normal(evalFormSel gp theta vals plates sel m, scale) :> Distribution

/// How the plate is opened around a plated node. `forgetScale`: the broken subsampling (a plate of B on the
/// same minibatch, without the N / B scale).
let private inPlate (g: GuidedProgram) (forgetScale: bool) (body: Tensor option -> Model<'T>) : Model<'T> =
    match g.Batch with
    | None -> Model.Plate(g.Plate.Name, int64 g.Plate.Size, body None)
    | Some b when forgetScale ->
        mb {
            let! idx = Model.Subsample("minibatch", int64 g.Plate.Size, int64 b, fun idx -> Model.Return idx)
            return! Model.Plate(g.Plate.Name, int64 b, body (Some idx))
        }
    | Some b -> Model.Subsample(g.Plate.Name, int64 g.Plate.Size, int64 b, fun idx -> body (Some idx))

let private estimatorOf = function
    | GScore false -> SiteEstimator.ScoreFunction
    | GScore true -> SiteEstimator.ScoreFunction.WithBaseline(Baseline.LeaveOneOut)
    | GEnum -> SiteEstimator.Enumerate
    | GPath -> SiteEstimator.Pathwise

/// The guide: the latents in order with their estimators (`est` may replace them).
let guideModel (g: GuidedProgram) (forgetScale: bool) (est: GLatent -> GEst) (theta: Tensor) : Model<unit> =
    let gp = g.GuideProgram
    let rec go (ls: GLatent list) (vals: Map<int, Tensor>) : Model<unit> =
        match ls with
        | [] -> mb { return () }
        | l :: rest ->
            let sample sel = Model.Sample(sprintf "x%d" l.Site.Id, distOfKind gp theta vals l.Site.Plates sel l.Site.Kind, estimatorOf (est l))
            mb {
                let! x = if l.Site.Plates.IsEmpty then sample None else inPlate g forgetScale sample
                return! go rest (vals.Add(l.Site.Id, x))
            }
    go (List.ofArray g.Latents) Map.empty

/// The model: the priors in order, then the observations and the cost.
let generativeModel (g: GuidedProgram) (forgetScale: bool) (theta: Tensor) : Model<unit> =
    let gp = g.GuideProgram
    let rec tail (nodes: PNode list) (vals: Map<int, Tensor>) : Model<unit> =
        match nodes with
        | [] -> mb { return () }
        | PObsN o :: rest ->
            let observe sel =
                let mean = evalFormSel gp theta vals o.OPlates sel o.Mean
                let scale =
                    match o.OScale with
                    | PConst v -> torch.tensor(v, dtype = ScalarType.Float64)
                    | PExp f -> (evalFormSel gp theta vals o.OPlates sel f).exp()
                let x = f64 o.X
                let x = match sel with Some idx when not o.OPlates.IsEmpty -> x.index_select(0L, idx) | _ -> (if o.OPlates.IsEmpty then x.squeeze() else x)
                Model.Observe(sprintf "o%d" o.OId, Normal(mean, scale), x)
            mb {
                let! _ = if o.OPlates.IsEmpty then observe None else inPlate g forgetScale observe
                return! tail rest vals
            }
        | PCostN c :: rest ->
            let cost sel =
                let ev = evalFormSel gp theta vals c.CPlates sel
                Model.Cost(sprintf "c%d" c.CId, (ev c.Y1) * (ev c.Y2) * c.S + ev c.Y3)
            mb {
                let! _ = if c.CPlates.IsEmpty then cost None else inPlate g forgetScale cost
                return! tail rest vals
            }
        | _ :: rest -> tail rest vals
    let rec go (ls: GLatent list) (vals: Map<int, Tensor>) : Model<unit> =
        match ls with
        | [] -> tail g.Tail vals
        | l :: rest ->
            let sample sel = Model.Sample(sprintf "x%d" l.Site.Id, distOfKind gp theta vals l.Site.Plates sel l.Prior)
            mb {
                let! x = if l.Site.Plates.IsEmpty then sample None else inPlate g forgetScale sample
                return! go rest (vals.Add(l.Site.Id, x))
            }
    go (List.ofArray g.Latents) Map.empty

/// How the pair is built: analytic KL, sticking the landing, the broken unscaled minibatch (ForgetScale), and each latent's estimator.
type PairOptions = { AnalyticKl: bool; Stl: bool; ForgetScale: bool; Est: GLatent -> GEst }

/// The pair as drawn: no analytic KL, no STL, the scaled minibatch, the drawn estimators.
let defaultPair = { AnalyticKl = false; Stl = false; ForgetScale = false; Est = fun l -> l.Est }

/// Guided.Pair of the guide and the model over the parameter leaves.
let pairModel (g: GuidedProgram) (o: PairOptions) (leaves: Tensor list) : Model<unit> =
    mb {
        let theta = torch.stack(leaves |> Array.ofList)
        let! _ = Guided.Pair(guideModel g o.ForgetScale o.Est theta, generativeModel g o.ForgetScale theta, o.AnalyticKl, o.Stl)
        return ()
    }

/// Float64 scalar leaves at the program's θ0 (φ then θ), requiring gradients.
let guidedLeaves (g: GuidedProgram) = leavesAt g.Theta0

