/// Randomised tests of the surrogate estimator on generated stochastic computation graphs (scg-math.md §1, §7).
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
///
/// Oracle (independent of Scg: plain TorchSharp tensor ops, float64). All discrete sites are enumerated at once,
/// as A = Π supports rows. For each row the Normal sites are jointly Gaussian and are carried as x = μ + L ε with
/// ε ~ N(0, I) one standard normal per Normal site (μ: [A], L: [A, #Normals]), built in program order. Then
/// E[s y1 y2 + y3 | row] = s (m1 m2 + ⟨l1, l2⟩) + m3, and J(θ) = Σ_rows p(row) Σ_c E[c | row], with p(row) the
/// product of the Bernoulli / softmax probabilities. torch.autograd.grad of J gives g* = ∇θ J.
/// The same oracle with the distributions of the score-function sites detached gives the exact expectation of
/// the broken estimators below, so the harness can also be shown to accept them against what they do estimate.
///
/// Statistics. Each graph is run M = 40 times with K = 400 vectorised particles (the surrogate averages the K
/// estimates of a run); the M run gradients are the samples of a z-test, |z| < Stats.zBound = 5 on every
/// coordinate (two-sided 5.7e-7 per coordinate under the null). Tests that must pass under the null: the gradient
/// property, 50 graphs × ≤ 3 coordinates; the cost test, 50 graphs × 1 value; in the rejection test, the
/// total-cost estimator and the two calibration checks, ≤ 30 graphs × 3 estimators × ≤ 3 coordinates. That is
/// ≤ 470 z-tests, so the file's false-alarm rate is below 470 × 5.7e-7 < 3e-4 (Bonferroni). All seeds are fixed:
/// FsCheck's replay seed, the graphs' torch seeds (drawn by the generator), the sample of graphs
/// used by the rejection tests.
module Scg.Tests.RandomScgTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Estimators
open Scg.Tracing

type Tensor = TorchSharp.torch.Tensor
type Generator = TorchSharp.torch.Generator
type ScalarType = TorchSharp.torch.ScalarType

// ---------------------------------------------------------------------------------------------------------
// Graphs

/// out-dimensional affine form: Bias [out] + θ · Theta [P × out] + Σ_parents feature(parent) · W [in × out],
/// matrices stored row-major; `in` is 3 for a Categorical parent (its one-hot index), 1 otherwise.
type Affine =
    { Out: int
      Bias: float[]
      Theta: float[]
      Parents: (int * float[]) list }

type Scale =
    | ConstScale of float
    | ExpScale of Affine

type Site =
    | Bern of logit: Affine
    | Cat of logits: Affine
    | Gauss of mean: Affine * scale: Scale * scoreFunction: bool

/// c = S · Y1 · Y2 + Y3; Pos: the number of sites recorded before the cost.
type CostSpec = { Pos: int; S: float; Y1: Affine; Y2: Affine; Y3: Affine }

type Step =
    | SiteStep of int
    | CostStep of int

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

let isDiscrete = function Bern _ | Cat _ -> true | Gauss _ -> false
let featureDim = function Cat _ -> 3 | _ -> 1
let isScoreFunction = function Bern _ | Cat _ -> true | Gauss (_, _, sf) -> sf

// ---------------------------------------------------------------------------------------------------------
// Generator

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

let f64 (xs: float[]) = torch.tensor(xs, dtype = ScalarType.Float64)
let mat (xs: float[]) (rows: int) (cols: int) = (f64 xs).reshape(int64 rows, int64 cols)

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

let mb = ModelBuilder()

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

// ---------------------------------------------------------------------------------------------------------
// Oracle

type Rep =
    | Disc of Tensor            // [A] int64 index or 0/1
    | Gaussian of Tensor * Tensor  // mean [A], loading [A, #Normals]

/// The enumeration behind the oracle: log p(row) [A] over the rows of all discrete values, and an evaluator of
/// affine forms on the rows, (mean [A, out], loading [A, #Normals]). The parameters of the distribution of every
/// site i with `cut i` are detached (a Normal's mean and loading, a discrete site's logits). Shared with
/// RandomPlatedTests, which unrolls plated programs into a Graph.
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

let leavesOf (g: Graph) =
    g.Theta0 |> Array.map (fun x -> torch.tensor(x, dtype = ScalarType.Float64, requires_grad = true)) |> List.ofArray

let allCosts (g: Graph) = [ 0 .. g.Costs.Length - 1 ]

/// Value and gradient of an oracle variant at θ0.
let exact (g: Graph) (f: Tensor -> Tensor) =
    use scope = torch.NewDisposeScope()
    let leaves = leavesOf g
    let j = f (torch.stack(leaves |> Array.ofList))
    j.item<float>(), Stats.gradOf j leaves

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

// ---------------------------------------------------------------------------------------------------------
// Estimators (the library's, and deliberately broken ones built from the trace)

type Variant =
    /// Surrogate.Build: Σ costs + Σ_s log p(s) · ⊥Q_s.
    | Library
    /// Broken: Σ costs only (the score-function terms dropped).
    | NoScoreTerms
    /// Broken: each score-function site's cost-to-go leaves out the last cost of the program when it is downstream.
    | DropLastCost
    /// Unbiased but noisier: the total cost of the run in place of each site's cost-to-go.
    | TotalCost

let surrogateOf (variant: Variant) (trace: Trace) : Tensor =
    match variant with
    | Library -> Surrogate.Build(trace).Surrogate
    | _ ->
        let k = float trace.ParticleCount
        let costNodes = trace.Costs |> List.ofSeq
        let costs = costNodes |> List.map (fun c -> c.Value.sum()) |> List.reduce (+)
        let scored = trace.Samples |> Seq.filter (fun s -> s.IsScoreFunction) |> List.ofSeq
        let score (signal: SampleNode -> Tensor) = scored |> List.map (fun s -> (s.LogProb * signal s).sum())
        let terms =
            match variant with
            | NoScoreTerms -> []
            | TotalCost ->
                let total = costNodes |> List.map (fun c -> c.Value.detach()) |> List.reduce (+)
                score (fun _ -> total)
            | DropLastCost ->
                let q = CostToGo.Compute(trace, Func<SampleNode, bool>(fun s -> s.IsScoreFunction))
                let last = costNodes |> List.maxBy (fun c -> c.Index)
                score (fun s -> if last.Index > s.Index then q.[s.Name] - last.Value.detach() else q.[s.Name])
            | Library -> failwith "unreachable"
        (List.fold (+) costs terms) / k

/// Gradients of several scalars sharing one graph, w.r.t. the leaves (zeros where a scalar needs no gradient).
let gradsOfMany (scalars: Tensor list) (leaves: Tensor list) =
    let n = scalars.Length
    scalars
    |> List.mapi (fun i s ->
        if not s.requires_grad then Array.zeroCreate<float> leaves.Length
        else
            let gs = torch.autograd.grad([| s |], Array.ofList leaves, retain_graph = (i < n - 1), allow_unused = true)
            [| for (gr, p) in Seq.zip gs leaves -> if isNull gr then 0.0 else gr.to_type(ScalarType.Float64).item<float>() |])

let chunks = 40
let particles = 400

/// M runs of K particles; per run, the gradient of each variant's surrogate (same samples) and the reported cost.
let runChunks (g: Graph) (variants: Variant list) =
    let leaves = leavesOf g
    use gen = new Generator(g.Seed, torch.CPU)
    let mdl = toModel g leaves
    let grads = Array.init variants.Length (fun _ -> Array.zeroCreate<float[]> chunks)
    let costs = Array.zeroCreate<float> chunks
    for r in 0 .. chunks - 1 do
        use scope = torch.NewDisposeScope()
        let run = Interpreter.Sample(mdl, RunOptions(Generator = gen, Particles = particles, MaxPlateNesting = 0))
        costs.[r] <- Surrogate.Build(run.Trace).Cost.item<float>()
        let gs = gradsOfMany [ for v in variants -> surrogateOf v run.Trace ] leaves
        gs |> List.iteri (fun i x -> grads.[i].[r] <- x)
    grads, costs

/// max |z| over coordinates; a coordinate whose mean equals the target to 1e-9 (relative) counts as z = 0 even when
/// its standard error is a rounding-level 1e-17 (a deterministic gradient or cost).
let zOf (samples: float[][]) (target: float[]) =
    let e = Stats.estimate samples
    Array.init target.Length (fun j ->
        let diff = e.Mean.[j] - target.[j]
        if abs diff <= 1e-9 * (1.0 + abs target.[j]) then 0.0
        elif e.StdErr.[j] > 0.0 then abs diff / e.StdErr.[j]
        else infinity)
    |> Array.max

let describe name (samples: float[][]) (target: float[]) (g: Graph) =
    let e = Stats.estimate samples
    sprintf "%s: mean [%s] vs exact [%s] (se [%s]), max |z| = %.2f\n%O"
        name (Stats.fmt e.Mean) (Stats.fmt target) (Stats.fmt e.StdErr) (zOf samples target) g

// ---------------------------------------------------------------------------------------------------------
// Tests

let config =
    { FsCheckConfig.defaultConfig with maxTest = 50; replay = Some (20240611UL, 977UL, None); endSize = 10 }

/// The fixed sample of graphs used by the rejection tests.
let rejectionGraphs =
    lazy (Gen.sampleWithSeed (Rnd(4242UL, 977UL)) 10 120 genGraph)

/// The bias of a broken estimator "matters" when some coordinate is off by more than 0.15 (for scale: the
/// standard errors of the z-test are mostly 0.005–0.05 on these graphs).
let biasMatters (target: float[]) (gstar: float[]) =
    Array.exists2 (fun a b -> abs (a - b) > 0.15) target gstar

let private aff (bias: float) (theta: float[]) (parents: (int * float[]) list) =
    { Out = 1; Bias = [| bias |]; Theta = theta; Parents = parents }

[<Tests>]
let tests =
    testList "RandomScg" [
        test "the oracle reproduces hand-computed closed forms" {
            let sigmoid x = 1.0 / (1.0 + exp -x)
            // x0 ~ Bernoulli(σ(θ0)), cost x0: J = σ(θ0), ∇ = (σ(1 − σ), 0).
            let noCost = aff 0.0 [| 0.0; 0.0 |] []
            let coin =
                { Theta0 = [| 0.3; -0.2 |]; Sites = [| Bern (aff 0.0 [| 1.0; 0.0 |] []) |]; Seed = 1UL
                  Costs = [| { Pos = 1; S = 0.0; Y1 = noCost; Y2 = noCost; Y3 = aff 0.0 [| 0.0; 0.0 |] [ 0, [| 1.0 |] ] } |] }
            let j, gr = trueGradient coin
            let p = sigmoid 0.3
            Expect.floatClose Accuracy.veryHigh j p "J = σ(θ0)"
            Expect.floatClose Accuracy.veryHigh gr.[0] (p * (1.0 - p)) "dJ/dθ0"
            Expect.floatClose Accuracy.veryHigh gr.[1] 0.0 "dJ/dθ1"
            // x0 ~ N(θ0, e^θ1), x1 ~ N(2 x0, 0.5), cost (x1 − 1)²:
            // E x1 = 2θ0, Var x1 = 4 e^(2θ1) + 0.25; J = (2θ0 − 1)² + 4 e^(2θ1) + 0.25.
            let chain =
                { Theta0 = [| 0.4; -0.3 |]; Seed = 1UL
                  Sites = [| Gauss (aff 0.0 [| 1.0; 0.0 |] [], ExpScale (aff 0.0 [| 0.0; 1.0 |] []), false)
                             Gauss (aff 0.0 [| 0.0; 0.0 |] [ 0, [| 2.0 |] ], ConstScale 0.5, true) |]
                  Costs = [| let y = aff -1.0 [| 0.0; 0.0 |] [ 1, [| 1.0 |] ] in { Pos = 2; S = 1.0; Y1 = y; Y2 = y; Y3 = noCost } |] }
            let j, gr = trueGradient chain
            Expect.floatClose Accuracy.veryHigh j ((0.8 - 1.0) ** 2.0 + 4.0 * exp -0.6 + 0.25) "J"
            Expect.floatClose Accuracy.veryHigh gr.[0] (4.0 * (0.8 - 1.0)) "dJ/dθ0"
            Expect.floatClose Accuracy.veryHigh gr.[1] (8.0 * exp -0.6) "dJ/dθ1"
            // x0 ~ Categorical(softmax(θ0 · (1, 0, −1))), cost h[x0] with h = (1, 2, 5).
            let cat =
                { Theta0 = [| 0.7; 0.0 |]; Seed = 1UL
                  Sites = [| Cat { Out = 3; Bias = [| 0.0; 0.0; 0.0 |]; Theta = [| 1.0; 0.0; -1.0; 0.0; 0.0; 0.0 |]; Parents = [] } |]
                  Costs = [| { Pos = 1; S = 0.0; Y1 = noCost; Y2 = noCost; Y3 = aff 0.0 [| 0.0; 0.0 |] [ 0, [| 1.0; 2.0; 5.0 |] ] } |] }
            let j, gr = trueGradient cat
            let w = [| exp 0.7; 1.0; exp -0.7 |]
            let z = Array.sum w
            let e = (w.[0] * 1.0 + w.[1] * 2.0 + w.[2] * 5.0) / z
            // d/dθ0 E[h] = Cov(h, s) with s = (1, 0, −1).
            let es = (w.[0] - w.[2]) / z
            let ehs = (w.[0] * 1.0 - w.[2] * 5.0) / z
            Expect.floatClose Accuracy.veryHigh j e "J"
            Expect.floatClose Accuracy.veryHigh gr.[0] (ehs - e * es) "dJ/dθ0"
        }

        testPropertyWithConfig config "the surrogate's mean gradient matches the exact gradient of random graphs" <|
            Prop.forAll (Arb.fromGen genGraph) (fun g ->
                let _, gstar = trueGradient g
                let grads, _ = runChunks g [ Library ]
                let z = zOf grads.[0] gstar
                if not (z < Stats.zBound) then failtest (describe "library surrogate" grads.[0] gstar g))

        testPropertyWithConfig config "the reported cost averages to the exact objective J(θ)" <|
            Prop.forAll (Arb.fromGen genGraph) (fun g ->
                let j, _ = trueGradient g
                let _, costs = runChunks g []
                let z = zOf (costs |> Array.map (fun c -> [| c |])) [| j |]
                if not (z < Stats.zBound) then
                    failtest (describe "reported cost" (costs |> Array.map (fun c -> [| c |])) [| j |] g))

        test "the harness rejects broken estimators and accepts the unbiased total-cost estimator" {
            // Graphs where the bug moves the expected gradient by more than 0.15 in some coordinate.
            let variants = [ NoScoreTerms; DropLastCost; TotalCost ]
            let results =
                rejectionGraphs.Value
                |> Array.choose (fun g ->
                    let gstar = snd (trueGradient g)
                    let ga, gb = noScoreGradient g, dropLastGradient g
                    if biasMatters ga gstar || biasMatters gb gstar then Some (g, gstar, ga, gb) else None)
                |> Array.truncate 30
                |> Array.map (fun (g, gstar, ga, gb) ->
                    let grads, _ = runChunks g variants
                    g, gstar, ga, gb, grads)
            let rate (pick: (Graph * float[] * float[] * float[] * float[][][]) -> (float[] * float[][]) option) =
                let cases = results |> Array.choose pick
                let rejected = cases |> Array.filter (fun (target, samples) -> zOf samples target >= Stats.zBound)
                float rejected.Length / float cases.Length, cases.Length
            let noScore, nA =
                rate (fun (_, gstar, ga, _, grads) -> if biasMatters ga gstar then Some (gstar, grads.[0]) else None)
            let dropLast, nB =
                rate (fun (_, gstar, _, gb, grads) -> if biasMatters gb gstar then Some (gstar, grads.[1]) else None)
            let total, nC = rate (fun (_, gstar, _, _, grads) -> Some (gstar, grads.[2]))
            printfn "RandomScg rejection rates: no score terms %.0f%% of %d, drop last cost %.0f%% of %d, total cost %.0f%% of %d"
                (100.0 * noScore) nA (100.0 * dropLast) nB (100.0 * total) nC
            Expect.isGreaterThanOrEqual nA 10 "enough graphs where dropping the score terms matters"
            Expect.isGreaterThanOrEqual nB 10 "enough graphs where dropping the last cost matters"
            Expect.isGreaterThanOrEqual noScore 0.8 "dropping the score terms is rejected in at least 80% of the graphs"
            Expect.isGreaterThanOrEqual dropLast 0.8 "leaving a downstream cost out of the cost-to-go is rejected in at least 80%"
            Expect.equal total 0.0 "the total cost in place of the cost-to-go is unbiased: never rejected"
            // Calibration: each broken estimator does estimate its own (exactly computed) expectation, so the
            // rejections above come from the bias, not from a mis-scaled test.
            for (g, _, ga, gb, grads) in results do
                Expect.isLessThan (zOf grads.[0] ga) Stats.zBound (describe "no score terms vs its expectation" grads.[0] ga g)
                Expect.isLessThan (zOf grads.[1] gb) Stats.zBound (describe "drop last cost vs its expectation" grads.[1] gb g)
        }
    ]

