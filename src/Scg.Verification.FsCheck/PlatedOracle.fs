/// The exact oracle of the random plated programs: every plate unrolled into its elements, giving a flat Graph that
/// FlatOracle evaluates (enumeration of the discrete elements × Gaussian closed form); also the exact expectations
/// of deliberately broken estimators (no score terms, a cost left out, plate-blind credit).
///
/// Oracle. The program is unrolled into the flat generator's Graph (one flat site per plate element and extra
/// element, one flat cost per cost element; a node's reads of other plates become affine terms over all the
/// elements it sums) and FlatOracle.oracleRows evaluates it: enumeration of the discrete elements ×
/// Gaussian closed form. An observation adds E[−log N(x; μ, σ)] = log σ + ½ log 2π + ((x − m)² + |l|²) / 2σ²
/// for μ = m + l·ε Gaussian. J(θ) = E[Σ costs − Σ log p(observations)], g* = ∇θ J by autograd.
module Scg.Verification.PlatedOracle

open System
open System.Collections.Generic
open TorchSharp
open Scg.Verification.GraphTensors
open Scg.Verification.FlatGraph
open Scg.Verification.FlatOracle
open Scg.Verification.PlatedProgram

// ---------------------------------------------------------------------------------------------------------
// Unrolling into the flat Graph, and the oracle

/// A flat observation element: E[−log N(x; μ, σ)] with μ = Mean, σ = Scale.
type FlatObs = { FMean: Affine; FScale: Scale; FX: float }

/// A plated program unrolled into a flat Graph: its sites, which plated site each came from, and each cost's flat elements.
type Unrolled =
    { Flat: Graph
      /// Flat site index → plated site id.
      SiteOf: int[]
      /// Cost or observation name → its flat elements.
      CostElems: Map<string, Choice<CostSpec, FlatObs> list> }

/// Multi-index of element `off` in a row-major shape.
let multiIndex (shape: int64[]) (off: int) =
    let idx = Array.zeroCreate<int> shape.Length
    let mutable r = off
    for a in shape.Length - 1 .. -1 .. 0 do
        idx.[a] <- r % int shape.[a]
        r <- r / int shape.[a]
    idx

/// The program unrolled into one flat site per plate and extra element, one flat cost per cost element.
let unroll (g: Program) : Unrolled =
    let flatSites = List<Site>()
    let siteOf = List<int>()
    // (site id) → list of (frame multi-index, flat index) over all its elements (extra elements included)
    let elems = Dictionary<int, (int[] * int) list>()
    let costElems = Dictionary<string, Choice<CostSpec, FlatObs> list>()
    /// The flat affine form of f for the reader element at frame multi-index r (offset off) in `plates`.
    let flatForm (plates: PlateDef list) (r: int[]) (off: int) (extraBias: float) (f: PForm) : Affine =
        let rn = frameRank plates
        let parents =
            [ for (j, w) in f.PParents do
                let s = g.Sites.[j]
                let rj = frameRank s.Plates
                for (m, flat) in elems.[j] do
                    let agrees =
                        s.Plates |> List.forall (fun q ->
                            not (plates |> List.exists (fun a -> a.Name = q.Name)) || m.[rj + q.Dim] = r.[rn + q.Dim])
                    if agrees then yield flat, w ]
        { Out = f.POut; Bias = Array.init f.POut (fun o -> f.PBias.[off * f.POut + o] + extraBias); Theta = f.PTheta; Parents = parents }
    let flatScale plates r off = function
        | PConst v -> ConstScale v
        | PExp f -> ExpScale (flatForm plates r off 0.0 f)
    let rec walk (plates: PlateDef list) (nodes: PNode list) =
        let frame = frameShape plates
        let cells = [ for off in 0 .. numel frame - 1 -> off, multiIndex frame off ]
        for n in nodes do
            match n with
            | PSiteN s ->
                let es =
                    [ for (off, r) in cells do
                        for e in 0 .. extraSize s.Extra - 1 do
                            let site =
                                match s.Kind with
                                | PBern f -> Bern (flatForm plates r off s.Offsets.[e] f)
                                | PCat f -> Cat (flatForm plates r off 0.0 f)
                                | PGauss (m, sc, sf) -> Gauss (flatForm plates r off s.Offsets.[e] m, flatScale plates r off sc, sf)
                            flatSites.Add site
                            siteOf.Add s.Id
                            yield r, flatSites.Count - 1 ]
                elems.[s.Id] <- es
            | PCostN c ->
                costElems.[sprintf "c%d" c.CId] <-
                    [ for (off, r) in cells ->
                        Choice1Of2 { Pos = 0; S = c.S; Y1 = flatForm plates r off 0.0 c.Y1; Y2 = flatForm plates r off 0.0 c.Y2
                                     Y3 = flatForm plates r off 0.0 c.Y3 } ]
            | PObsN o ->
                let shape = elementShape plates o.OExtra
                costElems.[sprintf "o%d" o.OId] <-
                    [ for (off, r) in cells do
                        for e in 0 .. extraSize o.OExtra - 1 do
                            // the data element: the frame cell with the extra index put in its place
                            let xi =
                                match o.OExtra with
                                | NoExtra -> off
                                | EventDim ne -> off * ne + e
                                | BatchDim _ ->
                                    let idx = Array.copy (if r.Length = 0 then [| 0 |] else r)
                                    idx.[idx.Length - 1] <- e
                                    Array.fold2 (fun acc i (s: int64) -> acc * int s + i) 0 idx shape
                            yield Choice2Of2 { FMean = flatForm plates r off o.OOffsets.[e] o.Mean; FScale = flatScale plates r off o.OScale; FX = o.X.[xi] } ]
            | PPlate (q, _, body) -> walk (plates @ [ q ]) body
            | PZip (a, b) -> walk plates a; walk plates b
    walk [] g.Body
    { Flat = { Theta0 = g.Theta0; Sites = flatSites.ToArray(); Costs = [||]; Seed = g.Seed }
      SiteOf = siteOf.ToArray()
      CostElems = costElems |> Seq.map (fun kv -> kv.Key, kv.Value) |> Map.ofSeq }

/// E[−log N(x; μ, σ) | row] [A].
let obsMean (affine: Affine -> Tensor * Tensor) (o: FlatObs) =
    let m, l = affine o.FMean
    let logSigma =
        match o.FScale with
        | ConstScale v -> torch.tensor(log v, dtype = ScalarType.Float64)
        | ExpScale a -> (fst (affine a)).squeeze(-1)
    let sq = (m.squeeze(-1) - o.FX).square() + (l * l).sum(-1L)
    logSigma + 0.5 * log (2.0 * Math.PI) + sq / (2.0 * (logSigma * 2.0).exp())

/// E[Σ_{c ∈ names} c] with the distributions of the flat sites with `cut i` detached.
let platedOracle (u: Unrolled) (theta: Tensor) (cut: int -> bool) (names: string list) =
    let logp, affine = oracleRows u.Flat theta cut
    let mutable total = torch.zeros([| logp.shape.[0] |], dtype = ScalarType.Float64)
    for name in names do
        for e in u.CostElems.[name] do
            total <- total + (match e with Choice1Of2 c -> costMean affine c | Choice2Of2 o -> obsMean affine o)
    (logp.exp() * total).sum()

/// Value and gradient of an oracle variant at θ0.
/// Value and gradient of an oracle variant at θ0.
let exactP (g: Program) (f: Tensor -> Tensor) = valueAndGradient g.Theta0 f

/// True when flat site i is a score-function site.
let isScoreP (u: Unrolled) i = isScoreFunction u.Flat.Sites.[i]

/// J and g*.
let platedTruth (g: Program) (u: Unrolled) = exactP g (fun th -> platedOracle u th (fun _ -> false) (costNames g))

/// Expected gradient of the estimator without score terms.
let noScoreExpect (g: Program) (u: Unrolled) = snd (exactP g (fun th -> platedOracle u th (isScoreP u) (costNames g)))

/// Expected gradient of the estimator whose cost-to-go leaves out the cost or observation named `last`
/// (the last one in program order): g* − (∇E[last] − ∇E[last] with score sites detached).
let dropLastExpect (g: Program) (u: Unrolled) (gstar: float[]) (last: string) =
    let full = snd (exactP g (fun th -> platedOracle u th (fun _ -> false) [ last ]))
    let cut = snd (exactP g (fun th -> platedOracle u th (isScoreP u) [ last ]))
    Array.init gstar.Length (fun j -> gstar.[j] - (full.[j] - cut.[j]))

/// The plates of the cost or observation with the given name.
let platesOfCost (g: Program) (name: string) =
    allNodes g.Body
    |> List.pick (function
        | PCostN c when sprintf "c%d" c.CId = name -> Some c.CPlates
        | PObsN o when sprintf "o%d" o.OId = name -> Some o.OPlates
        | _ -> None)

/// Expected gradient of the plate-blind estimator (a cost never credits a site in a plate the cost is not in):
/// g* − Σ_c (∇E[c] − ∇E[c] with the score sites in plates outside c's detached), costs grouped by plate set.
let plateBlindExpect (g: Program) (u: Unrolled) (gstar: float[]) =
    let mutable acc = Array.copy gstar
    let groups = costNames g |> List.groupBy (fun name -> platesOfCost g name |> List.map (fun q -> q.Name) |> List.sort)
    for (pc, names) in groups do
        let blind i =
            isScoreP u i && (g.Sites.[u.SiteOf.[i]].Plates |> List.exists (fun q -> not (List.contains q.Name pc)))
        if Seq.exists blind [ 0 .. u.Flat.Sites.Length - 1 ] then
            let full = snd (exactP g (fun th -> platedOracle u th (fun _ -> false) names))
            let cut = snd (exactP g (fun th -> platedOracle u th blind names))
            acc <- Array.init acc.Length (fun j -> acc.[j] - (full.[j] - cut.[j]))
    acc

