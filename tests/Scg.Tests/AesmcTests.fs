/// AESMC (Aesmc.Run) on a 1-D linear-Gaussian state-space model, z_1 ~ N(0, s0²), z_t = a z_{t−1} + N(0, q),
/// x_t = z_t + N(0, r), T = 5. The reference p(x_{1:T}) is a Kalman filter, itself checked against the joint
/// Gaussian of x_{1:T} (T = 5) and against brute-force quadrature on a grid (T = 2).
/// Statistical tests: the mean over N independent filters (one seeded generator) of Ẑ / p(x_{1:T}) against 1, with
/// |z| < Stats.zBound = 5 (false-alarm rate about 6e-7 per comparison with N = 2000, Student's t; 4 comparisons here); the same harness must reject
/// two broken estimators computed from the same runs' weights.
module Scg.Tests.AesmcTests

open System
open Expecto
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Objectives

let private model = ModelBuilder()
let private f64 (x: float) = torch.tensor(x, dtype = torch.ScalarType.Float64)
let private leaf (x: float) = torch.tensor(x, dtype = torch.ScalarType.Float64, requires_grad = true)
let private throwsMentioning = ErrorTests.throwsMentioning

// ---- the state-space model and its exact marginal likelihood ----
let private a, q, r, s0sq = 0.9, 1.0, 0.5, 1.0
/// Persistent observations: under the model they are far likelier jointly than one by one, so an estimator that
/// forgets the carried weights (and so treats steps as independent) is far off.
let private xs = [| 1.2; 1.6; 0.9; 1.5; 1.3 |]

/// log p(x_{1:T}) by the Kalman filter: predictive N(m, p) of z_t, then x_t ~ N(m, p + r), update, predict.
let kalmanLogLikelihood (xs: float[]) =
    let mutable m, p, ll = 0.0, s0sq, 0.0
    for x in xs do
        let s = p + r
        ll <- ll - 0.5 * (Math.Log(2.0 * Math.PI * s) + (x - m) * (x - m) / s)
        let gain = p / s
        let mf, pf = m + gain * (x - m), (1.0 - gain) * p
        m <- a * mf
        p <- a * a * pf + q
    ll

/// log N(x; 0, Σ_z + r I) with Cov(z_i, z_j) = a^{j−i} Var(z_i) for i ≤ j.
let private jointGaussianLogLikelihood (xs: float[]) =
    let n = xs.Length
    let var = Array.zeroCreate<float> n
    var.[0] <- s0sq
    for t in 1 .. n - 1 do var.[t] <- a * a * var.[t - 1] + q
    let cov = Array2D.init n n (fun i j ->
        let lo, hi = min i j, max i j
        a ** float (hi - lo) * var.[lo] + (if i = j then r else 0.0))
    let sigma = torch.tensor(cov, dtype = torch.ScalarType.Float64)
    let x = torch.tensor(xs, dtype = torch.ScalarType.Float64).unsqueeze(1)
    let quad = x.t().matmul(torch.linalg.solve(sigma, x)).item<float>()
    let logdet = torch.linalg.slogdet(sigma).ToTuple() |> snd
    -0.5 * (float n * Math.Log(2.0 * Math.PI) + logdet.item<float>() + quad)

/// log p(x_1, x_2) by the trapezoid-free Riemann sum of the joint density on a grid of z_1, z_2 in [−10, 10].
let private quadratureLogLikelihood2 (x1: float) (x2: float) =
    let h = 0.005
    let g = torch.arange(-10.0, 10.0 + h / 2.0, h, dtype = torch.ScalarType.Float64)
    let logN (x: torch.Tensor) (mean: torch.Tensor) (var: float) = -0.5 * Math.Log(2.0 * Math.PI * var) - (x - mean).square() / (2.0 * var)
    let z1, z2 = g.unsqueeze(1), g.unsqueeze(0)
    let logJoint =
        logN z1 (f64 0.0) s0sq + logN (f64 x1) z1 r + logN z2 (z1 * a) q + logN (f64 x2) z2 r
    (logJoint.flatten().logsumexp(0L) + 2.0 * Math.Log h).item<float>()

// ---- filters ----
let private sd (v: float) = f64 (Math.Sqrt v)

/// The generative step t: z_t from its prior given z_{t−1} (None at t = 0), x_t observed.
let private generative (t: int) (prev: torch.Tensor option) = model {
    let! z =
        match prev with
        | None -> Model.Sample("z", Normal(f64 0.0, sd s0sq))
        | Some zPrev -> Model.Sample("z", Normal(zPrev * a, sd q))
    let! _ = Model.Observe("x", Normal(z, sd r), f64 xs.[t])
    return z }

/// The bootstrap filter: z_t drawn from the transition (no guide), weighted by p(x_t | z_t).
let private bootstrap = generative 0 None, (fun t z -> generative t (Some z))

/// A guided filter: q(z_t | z_{t−1}, x_t) = N(α · a z_{t−1} + β x_t, exp(log σ)²), paired with the generative step.
/// (The locally optimal proposal here is α = 1/3, β = 2/3, σ² = 1/3; a wider σ keeps the weights bounded.)
let private guided (alpha: torch.Tensor) (beta: torch.Tensor) (logSigma: torch.Tensor) =
    let stepModel t (prev: torch.Tensor option) =
        let priorMean = match prev with None -> f64 0.0 | Some z -> z * a
        let proposal = Model.Sample("z", Normal(alpha * priorMean + beta * xs.[t], logSigma.exp()))
        Guided.Pair(proposal, generative t prev).Map(fun struct (g, _) -> g)
    // deferred: the initial model's tensors (exp of log σ) are then computed anew at every run, so it can be trained
    Model.Defer(fun () -> stepModel 0 None), (fun t z -> stepModel t (Some z))

let private run (initial, step) (k: int) (threshold: float) (resampling: AesmcResampling) (ro: RunOptions) =
    Aesmc.Run(initial, Func<int, torch.Tensor, Model<torch.Tensor>>(step), xs.Length,
              AesmcOptions(k, EssThreshold = threshold, Resampling = resampling, Run = ro))

let private logSumExp (v: float[]) =
    let m = Array.max v
    if Double.IsNegativeInfinity m then m else m + log (v |> Array.sumBy (fun x -> exp (x - m)))

/// log Ẑ recomputed from a run's incremental weights and resampling flags: correctly (carrying the normalised
/// weights across non-resampled steps), or broken by forgetting them after every step.
let private recompute (forget: bool) (o: AesmcObjective<torch.Tensor>) =
    let w = o.LogIncrementalWeights
    let steps, k = int w.shape.[0], int w.shape.[1]
    let uniform = Array.create k (-(log (float k)))
    let mutable logW = uniform
    let mutable logZ = 0.0
    for t in 0 .. steps - 1 do
        let row = w.[t].data<float>().ToArray()
        let joint = Array.map2 (+) logW row
        let lz = logSumExp joint
        logZ <- logZ + lz
        logW <- if forget || o.Resampled.[t] then uniform else joint |> Array.map (fun x -> x - lz)
    logZ

/// Broken: the log of the mean of the log weights instead of the log of the mean of the weights.
let private meanOfLogWeights (o: AesmcObjective<torch.Tensor>) = o.LogIncrementalWeights.mean([| 1L |]).sum().item<float>()

/// |z| of the mean of exp(logẐ − log p) against 1.
let private zAgainstOne (logZs: float[]) (logp: float) =
    let ratios = logZs |> Array.map (fun l -> [| exp (l - logp) |])
    RandomScgTests.zOf ratios [| 1.0 |], (Stats.estimate ratios).Mean.[0]

let private manyRuns (n: int) (seed: uint64) (mk: RunOptions -> AesmcObjective<torch.Tensor>) =
    use gen = new torch.Generator(seed, torch.CPU)
    let ro = RunOptions(Generator = gen, MaxPlateNesting = 0)
    Array.init n (fun _ ->
        use scope = torch.NewDisposeScope()
        let o = mk ro
        o.LogMarginal.item<float>(), recompute false o, recompute true o, meanOfLogWeights o, o.ResamplingCount)

[<Tests>]
let tests =
    testList "AESMC" [
        test "the Kalman filter agrees with the joint Gaussian (T = 5) and with quadrature on a grid (T = 2)" {
            let kf = kalmanLogLikelihood xs
            Expect.floatClose Accuracy.veryHigh kf (jointGaussianLogLikelihood xs) "Kalman vs joint Gaussian, T = 5"
            let kf2 = kalmanLogLikelihood xs.[0..1]
            Expect.floatClose Accuracy.high kf2 (quadratureLogLikelihood2 xs.[0] xs.[1]) "Kalman vs quadrature, T = 2"
        }

        test "Ẑ is unbiased for the Kalman filter's p(x_{1:T}); forgetting the carried weights, or averaging log weights, is rejected" {
            let logp = kalmanLogLikelihood xs
            let n = 2000
            // (name, seed, filter, whether forgetting the carried weights must be rejected: only where its bias is
            // large against the standard error — bootstrap particles carry very uneven weights from step to step)
            let cases =
                [ "bootstrap, ESS threshold 0.5, multinomial", 11UL, (fun ro -> run bootstrap 16 0.5 AesmcResampling.Multinomial ro), true
                  "bootstrap, no resampling", 12UL, (fun ro -> run bootstrap 16 0.0 AesmcResampling.Multinomial ro), true
                  "guided, always resampling, systematic", 13UL,
                      (fun ro -> run (guided (f64 0.3) (f64 0.7) (f64 (log 0.7))) 8 1.0 AesmcResampling.Systematic ro), false
                  "guided, ESS threshold 0.8, multinomial", 14UL,
                      (fun ro -> run (guided (f64 0.2) (f64 0.5) (f64 (log 0.9))) 8 0.8 AesmcResampling.Multinomial ro), false ]
            for name, seed, mk, forgetRejected in cases do
                let results = manyRuns n seed mk
                let logZs = results |> Array.map (fun (l, _, _, _, _) -> l)
                // the test's own recomputation agrees with the library on every run
                for (l, again, _, _, _) in results do
                    Expect.floatClose Accuracy.high again l (sprintf "%s: recomputed log Ẑ" name)
                let z, mean = zAgainstOne logZs logp
                let resamplings = results |> Array.averageBy (fun (_, _, _, _, c) -> float c)
                printfn "AESMC %s: mean Ẑ/p = %.4f, |z| = %.2f, mean resamplings %.2f" name mean z resamplings
                Expect.isLessThan z Stats.zBound (sprintf "%s: mean Ẑ/p(x) = %.4f, |z| = %.2f" name mean z)
                let zLog, meanLog = zAgainstOne (results |> Array.map (fun (_, _, _, m, _) -> m)) logp
                Expect.isGreaterThan zLog Stats.zBound (sprintf "%s: averaging log weights must be rejected (mean %.4f, |z| = %.2f)" name meanLog zLog)
                if forgetRejected then
                    let zForget, meanForget = zAgainstOne (results |> Array.map (fun (_, _, f, _, _) -> f)) logp
                    printfn "   forgetting the carried weights: mean %.4f, |z| = %.2f" meanForget zForget
                    Expect.isGreaterThan zForget Stats.zBound (sprintf "%s: forgetting the carried weights must be rejected (mean %.4f, |z| = %.2f)" name meanForget zForget)
        }

        test "T = 1 without resampling is the IWAE bound on the same draws, gradient included" {
            let alpha, beta, logSigma = leaf 0.3, leaf 0.6, leaf -0.3
            let leaves = [ alpha; beta; logSigma ]
            let initial, step = guided alpha beta logSigma
            let o = Aesmc.Run(initial, Func<int, torch.Tensor, Model<torch.Tensor>>(step), 1,
                              AesmcOptions(8, EssThreshold = 0.0, Run = RunOptions(Seed = 5UL, MaxPlateNesting = 0)))
            let iwae = Iwae.Build(Interpreter.Sample(initial, RunOptions(Seed = 5UL, Particles = 8, MaxPlateNesting = 0)).Trace)
            Expect.floatClose Accuracy.veryHigh (o.LogMarginal.item<float>()) (iwae.Bound.item<float>()) "log Ẑ = IWAE bound"
            Expect.floatClose Accuracy.veryHigh (o.Value.item<float>()) (iwae.Value.item<float>()) "Value = −bound"
            let g, gi = Stats.gradOf o.Loss leaves, Stats.gradOf iwae.Loss leaves
            for j in 0 .. g.Length - 1 do
                Expect.floatClose Accuracy.veryHigh g.[j] gi.[j] (sprintf "gradient %d: %s vs %s" j (Stats.fmt g) (Stats.fmt gi))
            Expect.equal o.ResamplingCount 0 "no resampling"
            Expect.equal o.EffectiveSampleSizes.Length 1 "one ESS"
        }

        test "gradients reach the proposal's parameters through resampled steps; diagnostics" {
            let alpha, beta, logSigma = leaf 0.3, leaf 0.6, leaf -0.3
            let leaves = [ alpha; beta; logSigma ]
            let o = run (guided alpha beta logSigma) 6 1.0 AesmcResampling.Systematic (RunOptions(Seed = 9UL))
            let g = Stats.gradOf o.Loss leaves
            Expect.isTrue (g |> Array.forall (fun v -> Double.IsFinite v && v <> 0.0)) (sprintf "finite, non-zero gradient: %s" (Stats.fmt g))
            Expect.equal o.ResamplingCount (xs.Length - 1) "threshold 1 resamples after every step but the last"
            Expect.sequenceEqual o.LogIncrementalWeights.shape [| int64 xs.Length; 6L |] "[T, K] incremental log weights"
            Expect.isTrue (o.EffectiveSampleSizes |> Seq.forall (fun e -> e >= 1.0 - 1e-9 && e <= 6.0 + 1e-9)) "1 ≤ ESS ≤ K"
            Expect.floatClose Accuracy.veryHigh (o.FinalLogWeights.logsumexp(0L).item<float>()) 0.0 "final weights are normalised"
            let again = run (guided alpha beta logSigma) 6 1.0 AesmcResampling.Systematic (RunOptions(Seed = 9UL))
            Expect.equal (again.LogMarginal.item<float>()) (o.LogMarginal.item<float>()) "the same seed gives the same filter"
            let never = run bootstrap 6 0.0 AesmcResampling.Multinomial (RunOptions(Seed = 9UL))
            Expect.equal never.ResamplingCount 0 "threshold 0 never resamples"
        }

        test "bad input: steps, threshold, particles, state shape, NaN and impossible weights, score-function sites" {
            let initial, step = bootstrap
            let stepF = Func<int, torch.Tensor, Model<torch.Tensor>>(step)
            let opts k = AesmcOptions(k, Run = RunOptions(Seed = 1UL, MaxPlateNesting = 0))
            throwsMentioning [ "steps"; "at least 1"; "got 0" ] (fun () -> Aesmc.Run(initial, stepF, 0, opts 4) |> ignore)
            for bad in [ 1.5; -0.1; nan ] do
                throwsMentioning [ "EssThreshold"; "[0, 1]" ] (fun () -> Aesmc.Run(initial, stepF, 2, AesmcOptions(4, EssThreshold = bad)) |> ignore)
            throwsMentioning [ "Particles"; "at least 1" ] (fun () -> Aesmc.Run(initial, stepF, 2, AesmcOptions(0)) |> ignore)
            throwsMentioning [ "Run.Particles = 3"; "Particles = 4" ] (fun () ->
                Aesmc.Run(initial, stepF, 2, AesmcOptions(4, Run = RunOptions(Particles = 3))) |> ignore)
            let summed t z = (step t z).Map(fun (z: torch.Tensor) -> z.sum())
            throwsMentioning [ "step 1"; "shape []"; "K = 4"; "first dimension" ] (fun () ->
                Aesmc.Run(initial, Func<_, _, _>(fun t z -> summed t z), 3, opts 4) |> ignore)
            let withCost (value: float) (t: int) (z: torch.Tensor) = model {
                let! z = step t z
                let! _ = if t = 2 then Model.Cost("c", z * 0.0 + value) else Model.Return(z)
                return z }
            throwsMentioning [ "step 2"; "particle 0"; "NaN" ] (fun () -> Aesmc.Run(initial, Func<_, _, _>(withCost nan), 4, opts 4) |> ignore)
            throwsMentioning [ "step 2"; "every particle has weight zero" ] (fun () ->
                Aesmc.Run(initial, Func<_, _, _>(withCost infinity), 4, opts 4) |> ignore)
            let unchecked = AesmcOptions(4, Run = RunOptions(Seed = 1UL, MaxPlateNesting = 0, ValidateArguments = false))
            let o = Aesmc.Run(initial, Func<_, _, _>(withCost nan), 4, unchecked)
            Expect.isTrue (Double.IsNaN(o.LogMarginal.item<float>())) "without validation the NaN is reported, not thrown"
            let discrete = model {
                let! y = Model.Sample("y", Bernoulli.FromLogits(f64 0.0))
                let! z = Model.Sample("z", Normal(y, f64 1.0))
                return z }
            throwsMentioning [ "'y'"; "step 0"; "score-function"; "Pathwise" ] (fun () -> Aesmc.Run(discrete, stepF, 2, opts 4) |> ignore)
        }
        test "a training loop over Aesmc.Run (one generator, SGD on the proposal) raises log Ẑ toward log p(x)" {
            let alpha, beta, logSigma = leaf 0.0, leaf 0.0, leaf (Math.Log 2.0)
            let filter = guided alpha beta logSigma
            let meanLogZ (seed: uint64) =
                use gen = new torch.Generator(seed, torch.CPU)
                Array.init 100 (fun _ ->
                    use scope = torch.NewDisposeScope()
                    (run filter 8 0.5 AesmcResampling.Systematic (RunOptions(Generator = gen))).LogMarginal.item<float>())
                |> Array.average
            let before = meanLogZ 5UL
            // one generator for the whole loop (a Seed would redraw the same noise at every step); plain SGD by hand
            use gen = new torch.Generator(6UL, torch.CPU)
            for _ in 1 .. 150 do
                use scope = torch.NewDisposeScope()
                let smc = run filter 8 0.5 AesmcResampling.Systematic (RunOptions(Generator = gen))
                for t in [ alpha; beta; logSigma ] do if not (isNull t.grad) then t.grad.zero_() |> ignore
                smc.Loss.backward()
                use _ = torch.no_grad()
                for t in [ alpha; beta; logSigma ] do t.sub_(t.grad * 0.02) |> ignore
            let after = meanLogZ 5UL
            let exact = kalmanLogLikelihood xs
            Expect.isGreaterThan after (before + 0.1) (sprintf "log Ẑ rises: %.3f → %.3f (log p(x) = %.3f)" before after exact)
            Expect.isLessThan after (exact + 0.05) "and stays a lower bound on average"
        }
    ]
