/// The exact oracle of the random guided programs (GuidedPrograms.fs).
///
/// Oracle. The guide's latents are unrolled into the flat Graph of FlatGraph (PlatedOracle.unroll) and
/// enumerated there: rows of the discrete elements with probability q(row) (differentiable), the Normal elements
/// jointly Gaussian per row. Per row, E[log q − log p(x, z) + costs] in closed form: log q(row) for the discrete
/// elements, −log σ − ½ log 2π − ½ for each Normal element, −log p(z) of a discrete prior from its logits at the
/// row, E[−log N(z; m, s)] = log s + ½ log 2π + E[(z − m)²] / 2s² for a Normal prior (the same closed form as an
/// observation), the observations and costs as in PlatedOracle. −ELBO = Σ_rows q(row) · that; its gradient in
/// θ and φ by autograd. With subsampling the oracle is the full-data program (all N elements). IWAE (K = 2, discrete
/// latents only): every row's log weight is exact, and E[−L] = −Σ_{r, r'} q(r) q(r') log ½(w_r + w_r').
module Scg.Verification.GuidedOracle

open System
open TorchSharp
open Scg.Verification.GraphTensors
open Scg.Verification.FlatGraph
open Scg.Verification.FlatOracle
open Scg.Verification.PlatedProgram
open Scg.Verification.PlatedOracle
open Scg.Verification.GuidedPrograms

// ---------------------------------------------------------------------------------------------------------
// Oracle

let private carrierBase = 1000

/// The guide's sites, then carriers whose unrolled forms the oracle reads: per latent, a cost c(1000 + id) with
/// Y1 = the prior's logits (discrete) and Y3 = the latent's value (one-hot for a Categorical), or an observation
/// o(1000 + id) of 0 with mean = prior mean − latent (Normal); then the model's observations and cost.
let private oracleProgram (g: GuidedProgram) =
    let gp = g.GuideProgram
    let wrap (plates: PlateDef list) n = if plates.IsEmpty then n else PPlate (g.Plate, false, [ n ])
    let carriers =
        [ for l in g.Latents do
            let plates = l.Site.Plates
            let n = numel (frameShape plates)
            let id = carrierBase + l.Site.Id
            match l.Prior with
            | PBern f ->
                let value = { POut = 1; PBias = Array.zeroCreate n; PTheta = Array.zeroCreate gp.P; PParents = [ l.Site.Id, [| 1.0 |] ] }
                yield wrap plates (PCostN { CId = id; CPlates = plates; S = 0.0; Y1 = f; Y2 = f; Y3 = value })
            | PCat f ->
                let eye = Array.init 9 (fun i -> if i / 3 = i % 3 then 1.0 else 0.0)
                let value = { POut = 3; PBias = Array.zeroCreate (3 * n); PTheta = Array.zeroCreate (3 * gp.P); PParents = [ l.Site.Id, eye ] }
                yield wrap plates (PCostN { CId = id; CPlates = plates; S = 0.0; Y1 = f; Y2 = f; Y3 = value })
            | PGauss (m, sc, _) ->
                let mean = { m with PParents = m.PParents @ [ l.Site.Id, [| -1.0 |] ] }
                yield wrap plates (PObsN { OId = id; OPlates = plates; Mean = mean; OScale = sc; OExtra = NoExtra; OOffsets = [| 0.0 |]; X = Array.zeroCreate n }) ]
    let tail = [ for n in g.Tail -> match n with PObsN o -> wrap o.OPlates n | PCostN c -> wrap c.CPlates n | n -> n ]
    { gp with Body = gp.Body @ carriers @ tail }

/// Per row of the guide's discrete elements: log q(row) and E[log q − log p(x, z) + costs | row].
let rowTerms (g: GuidedProgram) (theta: Tensor) =
    let op = oracleProgram g
    let u = unroll op
    let logq, affine = oracleRows u.Flat theta (fun _ -> false)
    let mutable total = logq
    for s in u.Flat.Sites do
        match s with
        | Gauss (_, sc, _) ->
            let logSigma = match sc with ConstScale v -> torch.tensor(log v, dtype = ScalarType.Float64) | ExpScale a -> (fst (affine a)).squeeze(-1)
            total <- total - logSigma - 0.5 * log (2.0 * Math.PI) - 0.5
        | _ -> ()
    for KeyValue (name, elems) in u.CostElems do
        let id = int (name.Substring 1)
        for e in elems do
            match e with
            | Choice2Of2 o -> total <- total + obsMean affine o
            | Choice1Of2 c when id < carrierBase -> total <- total + costMean affine c
            | Choice1Of2 c when c.Y1.Out = 1 ->
                let logit = (fst (affine c.Y1)).squeeze(-1)
                let z = (fst (affine c.Y3)).squeeze(-1)
                total <- total - torch.nn.functional.logsigmoid((z * 2.0 - 1.0) * logit)
            | Choice1Of2 c ->
                let logits = fst (affine c.Y1)
                let onehot = fst (affine c.Y3)
                total <- total - (onehot * logits.log_softmax(-1)).sum(-1L)
    logq, total

/// The exact negative ELBO (plus costs) at θ.
let negElbo (g: GuidedProgram) (theta: Tensor) =
    let logq, total = rowTerms g theta
    (logq.exp() * total).sum()

/// The expectation of the estimator without the guide's score terms: q(row) detached.
let negElboNoScore (g: GuidedProgram) (theta: Tensor) =
    let logq, total = rowTerms g theta
    (logq.exp().detach() * total).sum()

/// The exact E[−L], L = log ½ (w + w'), over all pairs of rows (discrete latents only: every row is exact).
let negIwae2 (g: GuidedProgram) (theta: Tensor) =
    let logq, total = rowTerms g theta
    let lw = -total
    let pairs = torch.logaddexp(lw.unsqueeze(1), lw.unsqueeze(0)) - log 2.0
    let weights = logq.unsqueeze(1).exp() * logq.unsqueeze(0).exp()
    -(weights * pairs).sum()

/// The expectation of the IWAE estimator without score terms: the pairs' probabilities detached.
let negIwae2NoScore (g: GuidedProgram) (theta: Tensor) =
    let logq, total = rowTerms g theta
    let lw = -total
    let pairs = torch.logaddexp(lw.unsqueeze(1), lw.unsqueeze(0)) - log 2.0
    let weights = (logq.unsqueeze(1).exp() * logq.unsqueeze(0).exp()).detach()
    -(weights * pairs).sum()

/// Value and gradient of an oracle at θ0.
/// Value and gradient at θ0 of an oracle (negElbo, negIwae2, …).
let exactG (g: GuidedProgram) (f: GuidedProgram -> Tensor -> Tensor) = valueAndGradient g.Theta0 (f g)
