/// The exact oracle of the flat graphs (FlatGraph.fs), independent of Scg: plain TorchSharp tensor ops, float64.
///
/// Oracle (independent of Scg: plain TorchSharp tensor ops, float64). All discrete sites are enumerated at once,
/// as A = Π supports rows. For each row the Normal sites are jointly Gaussian and are carried as x = μ + L ε with
/// ε ~ N(0, I) one standard normal per Normal site (μ: [A], L: [A, #Normals]), built in program order. Then
/// E[s y1 y2 + y3 | row] = s (m1 m2 + ⟨l1, l2⟩) + m3, and J(θ) = Σ_rows p(row) Σ_c E[c | row], with p(row) the
/// product of the Bernoulli / softmax probabilities. torch.autograd.grad of J gives g* = ∇θ J.
/// The same oracle with the distributions of the score-function sites detached gives the exact expectation of
/// the broken estimators below, so the harness can also be shown to accept them against what they do estimate.
module Scg.Verification.FlatOracle

open System
open TorchSharp
open Scg.Verification.GraphTensors
open Scg.Verification.FlatGraph

// ---------------------------------------------------------------------------------------------------------
// Oracle

/// A site's value in each row of the enumeration: a discrete value, or a Normal as mean and loading on ε.
type Rep =
    | Disc of Tensor            // [A] int64 index or 0/1
    | Gaussian of Tensor * Tensor  // mean [A], loading [A, #Normals]

/// The enumeration behind the oracle: log p(row) [A] over the rows of all discrete values, and an evaluator of
/// affine forms on the rows, (mean [A, out], loading [A, #Normals]). The parameters of the distribution of every
/// site i with `cut i` are detached (a Normal's mean and loading, a discrete site's logits). Shared with
/// PlatedOracle, which unrolls plated programs into a Graph.
let oracleRows (g: Graph) (theta: Tensor) (cut: int -> bool) : Tensor * (Affine -> Tensor * Tensor) =
    let n = g.Sites.Length
    let support = g.Sites |> Array.map (function Bern _ -> 2L | Cat _ -> 3L | Gauss _ -> 1L)
    let rows = Array.fold (*) 1L support
    let stride = Array.init n (fun i -> Array.fold (*) 1L support.[i + 1 ..])
    let normals = [| for i in 0 .. n - 1 do if not (isDiscrete g.Sites.[i]) then yield i |]
    let nN = int64 normals.Length
    /// Site i's value in each row: digit i of the row number in the mixed radix of the supports.
    let digit i = torch.tensor(Array.init (int rows) (fun r -> (int64 r / stride.[i]) % support.[i]), dtype = ScalarType.Int64)
    let zeros () = torch.zeros([| rows; nN |], dtype = ScalarType.Float64)
    let theta = theta.to_type(ScalarType.Float64)
    /// (mean [A, out], loading [A, #Normals]; the loading only for out = 1).
    let affine (reps: Map<int, Rep>) (a: Affine) =
        let mutable mean = (f64 a.Bias + theta.matmul(mat a.Theta g.P a.Out)).expand(rows, int64 a.Out)
        let mutable load = zeros ()
        for (j, w) in a.Parents do
            match reps.[j] with
            | Disc d ->
                let feat =
                    match g.Sites.[j] with
                    | Cat _ -> torch.nn.functional.one_hot(d, 3L).to_type(ScalarType.Float64)
                    | _ -> d.to_type(ScalarType.Float64).unsqueeze(-1)
                mean <- mean + feat.matmul(mat w (featureDim g.Sites.[j]) a.Out)
            | Gaussian (m, l) ->
                if a.Out <> 1 then failwith "a Normal parent of a vector form"
                mean <- mean + (m * w.[0]).unsqueeze(-1)
                load <- load + l * w.[0]
        mean, load
    let mutable logp = torch.zeros([| rows |], dtype = ScalarType.Float64)
    let mutable reps = Map.empty
    let cutIf i (t: Tensor) = if cut i then t.detach() else t
    for i in 0 .. n - 1 do
        match g.Sites.[i] with
        | Bern a ->
            let d = digit i
            let logit = cutIf i ((fst (affine reps a)).squeeze(-1))
            logp <- logp + torch.nn.functional.logsigmoid((d.to_type(ScalarType.Float64) * 2.0 - 1.0) * logit)
            reps <- reps.Add(i, Disc d)
        | Cat a ->
            let d = digit i
            let logits = cutIf i (fst (affine reps a))
            logp <- logp + logits.log_softmax(-1).gather(-1L, d.unsqueeze(-1)).squeeze(-1)
            reps <- reps.Add(i, Disc d)
        | Gauss (m, sc, _) ->
            let mean, load = affine reps m
            let sigma =
                match sc with
                | ConstScale v -> torch.ones([| rows |], dtype = ScalarType.Float64) * v
                | ExpScale a -> (fst (affine reps a)).squeeze(-1).exp()
            let k = Array.IndexOf(normals, i)
            let unit = f64 (Array.init normals.Length (fun j -> if j = k then 1.0 else 0.0))
            let load = load + sigma.unsqueeze(-1) * unit
            reps <- reps.Add(i, Gaussian (cutIf i (mean.squeeze(-1)), cutIf i load))
    logp, affine reps

/// E[c | row] [A] of a cost s · y1 · y2 + y3, from an evaluator of affine forms (see oracleRows).
let costMean (affine: Affine -> Tensor * Tensor) (k: CostSpec) =
    let m1, l1 = affine k.Y1
    let m2, l2 = affine k.Y2
    let m3, _ = affine k.Y3
    let e12 = m1.squeeze(-1) * m2.squeeze(-1) + (l1 * l2).sum(-1L)
    e12 * k.S + m3.squeeze(-1)

/// J(θ) = E[Σ_{c ∈ costs} c] in closed form (see the header). With `detachScore`, the parameters of every
/// score-function site's distribution are detached (a Normal's mean and loading, a discrete site's logits):
/// the expectation of the estimator that drops the score terms.
let oracle (g: Graph) (theta: Tensor) (detachScore: bool) (costs: int list) : Tensor =
    let logp, affine = oracleRows g theta (fun i -> detachScore && isScoreFunction g.Sites.[i])
    let rows = logp.shape.[0]
    let mutable total = torch.zeros([| rows |], dtype = ScalarType.Float64)
    for c in costs do
        total <- total + costMean affine g.Costs.[c]
    (logp.exp() * total).sum()

/// Indices of all the graph's costs.
let allCosts (g: Graph) = [ 0 .. g.Costs.Length - 1 ]

/// Value and gradient of an oracle variant at θ0.
let exact (g: Graph) (f: Tensor -> Tensor) = valueAndGradient g.Theta0 f

/// g* and J.
let trueGradient g = exact g (fun th -> oracle g th false (allCosts g))

/// Expected gradient of the estimator without score terms: the oracle with score-function distributions detached.
let noScoreGradient g = snd (exact g (fun th -> oracle g th true (allCosts g)))

/// The last cost in program order (the one the "drop last cost" estimator leaves out).
let lastCost (g: Graph) = g.Program |> List.choose (function CostStep c -> Some c | _ -> None) |> List.last

/// Expected gradient of the estimator whose cost-to-go leaves out the last cost L:
/// g* − Σ_{score sites s before L} E[∇ log p(s) · c_L] = g* − (∇E[c_L] − ∇E[c_L] with score sites detached).
let dropLastGradient g =
    let gstar = snd (trueGradient g)
    let l = lastCost g
    let full = snd (exact g (fun th -> oracle g th false [ l ]))
    let cut = snd (exact g (fun th -> oracle g th true [ l ]))
    Array.init gstar.Length (fun j -> gstar.[j] - (full.[j] - cut.[j]))
