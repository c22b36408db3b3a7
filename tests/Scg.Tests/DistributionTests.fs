module Scg.Tests.DistributionTests

// Tests of the distribution families in Scg.Distributions.
//
// Statistical checks use z-statistics z = (mean − exact) / (s / √N) with the bound |z| < 5. For a
// correct implementation one check fails with probability about 5.7e-7; the file makes about 100 such
// checks (66 moments, 34 gradient coordinates), so by Bonferroni the chance of a false alarm anywhere is
// below 1e-4 (and the seeds are fixed, so a run that passes keeps passing). N = 20000 draws per check.

open System
open Expecto
open TorchSharp
open Scg.Distributions

type Tensor = torch.Tensor

let private f64 = torch.ScalarType.Float64
let private f32 = torch.ScalarType.Float32

let private gen (seed: uint64) = new torch.Generator(seed, torch.CPU)
let private vec (xs: float[]) = torch.tensor (xs, dtype = f64)
let private scalar (x: float) = torch.tensor (x, dtype = f64)
let private mat (rows: float[][]) =
    let r = int64 rows.Length
    let c = int64 rows.[0].Length
    torch.tensor(Array.concat rows, dtype = f64).reshape (r, c)
let private leaf (t: Tensor) = t.detach().clone().requires_grad_ (true)
let private values (t: Tensor) = t.detach().to_type(f64).contiguous().data<float>().ToArray ()
let private value (t: Tensor) = t.detach().to_type(f64).item<float> ()
let private sameBits (a: Tensor) (b: Tensor) = torch.equal(a, b).all().item<bool> ()

// ---------------------------------------------------------------------------------------------
// Independent reference values in doubles

/// log Γ(x) by the Lanczos approximation (g = 7, nine terms; relative error ~1e-15), with reflection below 1/2.
let rec lgammaRef (x: float) : float =
    if x < 0.5 then
        Math.Log(Math.PI / abs (Math.Sin(Math.PI * x))) - lgammaRef (1.0 - x)
    else
        let c =
            [| 0.99999999999980993; 676.5203681218851; -1259.1392167224028; 771.32342877765313
               -176.61502916214059; 12.507343278686905; -0.13857109526572012
               9.9843695780195716e-6; 1.5056327351493116e-7 |]
        let y = x - 1.0
        let mutable a = c.[0]
        for i in 1..8 do
            a <- a + c.[i] / (y + float i)
        let t = y + 7.5
        0.5 * Math.Log(2.0 * Math.PI) + (y + 0.5) * Math.Log t - t + Math.Log a

let private sigmoid x = 1.0 / (1.0 + Math.Exp(-x))
let private halfLog2Pi = 0.5 * Math.Log(2.0 * Math.PI)
let private normalLogPdf mu sigma x = -0.5 * ((x - mu) / sigma) ** 2.0 - Math.Log sigma - halfLog2Pi

let private expectClose (tol: float) (what: string) (actual: float[]) (expected: float[]) =
    Expect.equal actual.Length expected.Length (what + ": number of values")
    for i in 0 .. actual.Length - 1 do
        let a, e = actual.[i], expected.[i]
        let ok =
            if Double.IsInfinity e || Double.IsNaN e then a = e
            else abs (a - e) <= tol * (1.0 + abs e)
        if not ok then failtestf "%s[%d]: got %.15g, expected %.15g" what i a e

let private expectShape (what: string) (t: Tensor) (shape: int64[]) =
    Expect.sequenceEqual t.shape shape (what + ": shape")

// ---------------------------------------------------------------------------------------------
// z-tests

/// Fails unless the mean of the draws is within Stats.zBound standard errors of the exact value.
let private expectMean (what: string) (draws: float[]) (exact: float) =
    let e = Stats.estimate (draws |> Array.map (fun x -> [| x |]))
    let z = (Stats.zScores e [| exact |]).[0]
    if not (abs z < Stats.zBound) then
        failtestf "%s: mean %.6g, exact %.6g, standard error %.3g, z = %.2f" what e.Mean.[0] exact e.StdErr.[0] z

/// The column c of an [N, C] tensor.
let private column (t: Tensor) (c: int) = values (t.select (1L, int64 c))

/// Mean and variance of every coordinate of the draws (flattened to [N, C]) against exact values;
/// the variance is tested as the mean of (x − exact mean)², whose expectation is the exact variance.
let private expectMoments (what: string) (draws: Tensor) (means: float[]) (vars: float[]) =
    let n = draws.shape.[0]
    let flat = draws.to_type(f64).reshape (n, -1L)
    Expect.equal (int flat.shape.[1]) means.Length (what + ": number of coordinates")
    for c in 0 .. means.Length - 1 do
        let xs = column flat c
        expectMean (sprintf "%s mean[%d]" what c) xs means.[c]
        let sq = xs |> Array.map (fun x -> (x - means.[c]) * (x - means.[c]))
        expectMean (sprintf "%s variance[%d]" what c) sq vars.[c]

/// Per-draw gradients (rows of an [N] or [N, C] gradient tensor) against exact gradients per coordinate.
let private expectGradient (what: string) (grad: Tensor) (exact: float[]) =
    let n = grad.shape.[0]
    let flat = grad.reshape (n, -1L)
    Expect.equal (int flat.shape.[1]) exact.Length (what + ": number of coordinates")
    for c in 0 .. exact.Length - 1 do
        expectMean (sprintf "%s[%d]" what c) (column flat c) exact.[c]

let private n = 20000L

// ---------------------------------------------------------------------------------------------
// Log-probabilities against closed forms

let logProbTests =
    testList "LogProb" [
        testCase "lgamma reference matches known values" <| fun () ->
            expectClose 1e-13 "lgamma"
                [| lgammaRef 0.5; lgammaRef 1.0; lgammaRef 2.0; lgammaRef 6.0; lgammaRef 0.1; lgammaRef 30.5 |]
                [| 0.5 * Math.Log Math.PI; 0.0; 0.0; Math.Log 120.0; 2.2527126517342055; 72.9534711841694 |]

        testCase "Normal" <| fun () ->
            let d = Normal(vec [| 0.5; -1.0 |], vec [| 1.0; 2.0 |])
            let x = mat [| [| 0.0; 0.0 |]; [| 1.5; -4.0 |]; [| 3.0; 2.0 |] |]
            let lp = d.LogProb x
            expectShape "Normal log p" lp [| 3L; 2L |]
            let expected =
                [| for row in [| [| 0.0; 0.0 |]; [| 1.5; -4.0 |]; [| 3.0; 2.0 |] |] do
                       yield normalLogPdf 0.5 1.0 row.[0]
                       yield normalLogPdf -1.0 2.0 row.[1] |]
            expectClose 1e-12 "Normal log p" (values lp) expected

        testCase "Bernoulli from logits and from probs, broadcast over a sample dimension" <| fun () ->
            let logits = [| -2.0; 0.5; 3.0 |]
            let d = Bernoulli.FromLogits(vec logits)
            let xs = [| [| 0.0; 1.0; 1.0 |]; [| 1.0; 0.0; 0.0 |] |]
            let lp = d.LogProb(mat xs)
            expectShape "Bernoulli log p" lp [| 2L; 3L |]
            let expected =
                [| for row in xs do
                       for j in 0..2 do
                           let p = sigmoid logits.[j]
                           yield (if row.[j] = 1.0 then Math.Log p else Math.Log(1.0 - p)) |]
            expectClose 1e-12 "Bernoulli(logits) log p" (values lp) expected
            let probs = [| 0.2; 0.7; 0.0; 1.0 |]
            let dp = Bernoulli.FromProbs(vec probs)
            let lpp = dp.LogProb(vec [| 1.0; 0.0; 0.0; 1.0 |])
            expectClose 1e-12 "Bernoulli(probs) log p" (values lpp) [| Math.Log 0.2; Math.Log 0.3; 0.0; 0.0 |]
            let impossible = dp.LogProb(vec [| 0.0; 0.0; 1.0; 0.0 |])
            let v = values impossible
            Expect.isTrue (Double.IsNegativeInfinity v.[2] && Double.IsNegativeInfinity v.[3]) "probability 0 gives −∞"
            // Large logits stay finite: log σ(−50) ≈ −50.
            let big = Bernoulli.FromLogits(vec [| 50.0; -50.0 |]).LogProb(vec [| 0.0; 1.0 |])
            expectClose 1e-12 "Bernoulli extreme logits" (values big) [| -50.0; -50.0 |]

        testCase "Categorical from probs and from logits, with batch and sample dimensions" <| fun () ->
            let probs = [| [| 0.2; 0.3; 0.5 |]; [| 0.1; 0.1; 0.8 |] |]
            let d = Categorical.FromProbs(mat probs)
            Expect.sequenceEqual d.BatchShape [| 2L |] "batch shape"
            let idx = torch.tensor([| 0L; 2L; 1L; 1L; 2L; 0L |]).reshape (3L, 2L)
            let lp = d.LogProb idx
            expectShape "Categorical log p" lp [| 3L; 2L |]
            expectClose 1e-12 "Categorical(probs) log p" (values lp)
                (Array.map Math.Log [| 0.2; 0.8; 0.3; 0.1; 0.5; 0.1 |])
            let logits = [| 1.0; 2.0; 3.0 |]
            let lse = Math.Log(logits |> Array.sumBy Math.Exp)
            let dl = Categorical.FromLogits(vec logits)
            let lpl = dl.LogProb(torch.tensor([| 0L; 1L; 2L |]))
            expectClose 1e-12 "Categorical(logits) log p" (values lpl) (logits |> Array.map (fun l -> l - lse))

        testCase "OneHotCategorical" <| fun () ->
            let d = OneHotCategorical.FromProbs(mat [| [| 0.2; 0.3; 0.5 |]; [| 0.1; 0.1; 0.8 |] |])
            Expect.sequenceEqual d.EventShape [| 3L |] "event shape"
            Expect.sequenceEqual d.BatchShape [| 2L |] "batch shape"
            let x = mat [| [| 0.0; 1.0; 0.0 |]; [| 0.0; 0.0; 1.0 |] |]
            expectClose 1e-12 "OneHot log p" (values (d.LogProb x)) [| Math.Log 0.3; Math.Log 0.8 |]

        testCase "Beta (known density of Beta(2,3) and the lgamma formula)" <| fun () ->
            // Beta(2, 3) has density 12 x (1 − x)².
            let d = Beta(scalar 2.0, scalar 3.0)
            let xs = [| 0.1; 0.3; 0.9 |]
            expectClose 1e-12 "Beta(2,3) log p" (values (d.LogProb(vec xs)))
                (xs |> Array.map (fun x -> Math.Log(12.0 * x * (1.0 - x) ** 2.0)))
            let a, b = [| 0.5; 4.0 |], [| 0.7; 1.5 |]
            let db = Beta(vec a, vec b)
            let x = [| 0.25; 0.6 |]
            let expected =
                Array.init 2 (fun i ->
                    (a.[i] - 1.0) * Math.Log x.[i] + (b.[i] - 1.0) * Math.Log(1.0 - x.[i])
                    - (lgammaRef a.[i] + lgammaRef b.[i] - lgammaRef (a.[i] + b.[i])))
            expectClose 1e-12 "Beta log p" (values (db.LogProb(vec x))) expected

        testCase "Gamma (known density of Gamma(2, rate 3) and the lgamma formula)" <| fun () ->
            // Gamma(2, 3) has density 9 x e^(−3x).
            let d = Gamma(scalar 2.0, scalar 3.0)
            expectClose 1e-12 "Gamma(2,3) log p" (values (d.LogProb(vec [| 0.5; 2.0 |])))
                [| Math.Log(4.5) - 1.5; Math.Log(18.0) - 6.0 |]
            let a, b = [| 0.5; 7.5 |], [| 2.0; 0.25 |]
            let x = [| 0.3; 20.0 |]
            let expected =
                Array.init 2 (fun i ->
                    a.[i] * Math.Log b.[i] + (a.[i] - 1.0) * Math.Log x.[i] - b.[i] * x.[i] - lgammaRef a.[i])
            let lp = Gamma(vec a, vec b).LogProb(mat [| x; x |])
            expectShape "Gamma log p" lp [| 2L; 2L |]
            expectClose 1e-12 "Gamma log p" (values lp) (Array.append expected expected)

        testCase "Dirichlet (known density and the lgamma formula, batched)" <| fun () ->
            // Dirichlet(1, 2, 3) has density 120 / (1·1·2) · x₂ · x₃².
            let d = Dirichlet(vec [| 1.0; 2.0; 3.0 |])
            expectClose 1e-12 "Dirichlet(1,2,3) log p" (values (d.LogProb(vec [| 0.2; 0.3; 0.5 |]))) [| Math.Log 4.5 |]
            let alpha = [| [| 0.5; 1.5; 2.0 |]; [| 3.0; 0.8; 1.0 |] |]
            let db = Dirichlet(mat alpha)
            Expect.sequenceEqual db.BatchShape [| 2L |] "batch shape"
            Expect.sequenceEqual db.EventShape [| 3L |] "event shape"
            let x = [| 0.1; 0.6; 0.3 |]
            let expected =
                alpha |> Array.map (fun al ->
                    Array.fold2 (fun s a xi -> s + (a - 1.0) * Math.Log xi) 0.0 al x
                    + lgammaRef (Array.sum al) - (al |> Array.sumBy lgammaRef))
            expectClose 1e-12 "Dirichlet log p" (values (db.LogProb(vec x))) expected

        testCase "Exponential" <| fun () ->
            let d = Exponential(vec [| 2.0; 0.5 |])
            expectClose 1e-12 "Exponential log p" (values (d.LogProb(vec [| 0.7; 3.0 |])))
                [| Math.Log 2.0 - 1.4; Math.Log 0.5 - 1.5 |]

        testCase "Poisson (including rate zero)" <| fun () ->
            let lam = 3.5
            let ks = [| 0.0; 1.0; 2.0; 5.0; 12.0 |]
            let d = Poisson(scalar lam)
            expectClose 1e-12 "Poisson log p" (values (d.LogProb(vec ks)))
                (ks |> Array.map (fun k -> k * Math.Log lam - lam - lgammaRef (k + 1.0)))
            let zero = Poisson(scalar 0.0).LogProb(vec [| 0.0; 1.0 |]) |> values
            Expect.equal zero.[0] 0.0 "rate 0: log p(0) = 0"
            Expect.isTrue (Double.IsNegativeInfinity zero.[1]) "rate 0: log p(1) = −∞"

        testCase "Uniform (inside and outside)" <| fun () ->
            let d = Uniform(scalar -1.0, scalar 3.0)
            let lp = values (d.LogProb(vec [| -1.0; 0.0; 2.99; 3.0; -2.0 |]))
            let l4 = -Math.Log 4.0
            expectClose 1e-12 "Uniform log p" lp [| l4; l4; l4; Double.NegativeInfinity; Double.NegativeInfinity |]

        testCase "LogNormal (with the Jacobian term)" <| fun () ->
            let d = LogNormal(scalar 0.3, scalar 0.8)
            let xs = [| 0.2; 1.0; 4.0 |]
            expectClose 1e-12 "LogNormal log p" (values (d.LogProb(vec xs)))
                (xs |> Array.map (fun x -> normalLogPdf 0.3 0.8 (Math.Log x) - Math.Log x))

        testCase "Laplace" <| fun () ->
            let d = Laplace(scalar 0.5, scalar 2.0)
            let xs = [| -3.0; 0.5; 4.0 |]
            expectClose 1e-12 "Laplace log p" (values (d.LogProb(vec xs)))
                (xs |> Array.map (fun x -> -abs (x - 0.5) / 2.0 - Math.Log 4.0))

        testCase "MultivariateNormalDiag (event sum, sample and batch broadcasting)" <| fun () ->
            let loc = [| [| 0.0; 1.0; 2.0 |]; [| -1.0; 0.0; 1.0 |] |]
            let sc = [| [| 1.0; 0.5; 2.0 |]; [| 0.3; 1.0; 1.5 |] |]
            let d = MultivariateNormalDiag(mat loc, mat sc)
            Expect.sequenceEqual d.BatchShape [| 2L |] "batch shape"
            Expect.sequenceEqual d.EventShape [| 3L |] "event shape"
            let x = [| 0.5; -0.5; 1.0 |]
            let lp = d.LogProb(vec(x).expand (4L, 2L, 3L))
            expectShape "MVN log p" lp [| 4L; 2L |]
            let one b = Array.init 3 (fun j -> normalLogPdf loc.[b].[j] sc.[b].[j] x.[j]) |> Array.sum
            expectClose 1e-12 "MVN log p" (values lp) (Array.init 8 (fun i -> one (i % 2)))

        testCase "Expand broadcasts the batch and keeps the log-probabilities" <| fun () ->
            let cases : (Distribution * Tensor) list =
                [ Normal(vec [| 0.0; 1.0 |], scalar 1.0), vec [| 0.3; 0.4 |]
                  Bernoulli.FromProbs(vec [| 0.2; 0.9 |]), vec [| 1.0; 0.0 |]
                  Categorical.FromProbs(mat [| [| 0.2; 0.8 |]; [| 0.5; 0.5 |] |]), torch.tensor([| 1L; 0L |])
                  Gamma(vec [| 2.0; 3.0 |], scalar 1.0), vec [| 0.3; 0.4 |]
                  Dirichlet(mat [| [| 1.0; 2.0 |]; [| 3.0; 4.0 |] |]), mat [| [| 0.3; 0.7 |]; [| 0.5; 0.5 |] |]
                  MultivariateNormalDiag(mat [| [| 0.0; 1.0 |]; [| 2.0; 3.0 |] |], scalar 1.0), mat [| [| 0.0; 0.0 |]; [| 1.0; 1.0 |] |] ]
            for d, x in cases do
                let e = d.Expand [| 3L; 2L |]
                Expect.sequenceEqual e.BatchShape [| 3L; 2L |] (d.Name + ": expanded batch")
                Expect.sequenceEqual e.EventShape d.EventShape (d.Name + ": event kept")
                let lp = e.LogProb x
                expectShape (d.Name + " expanded log p") lp [| 3L; 2L |]
                let once = values (d.LogProb x)
                expectClose 1e-12 (d.Name + " expanded log p") (values lp) (Array.concat [ once; once; once ])
    ]

// ---------------------------------------------------------------------------------------------
// Sampling

/// Every family with float64 parameters, with the exact mean and variance of each coordinate
/// (batch ++ event flattened). Categorical moments are those of the index.
let private momentCases () : (Distribution * float[] * float[]) list =
    let catProbs = [| [| 0.2; 0.3; 0.5 |]; [| 0.6; 0.3; 0.1 |] |]
    let catMean = catProbs |> Array.map (fun p -> p.[1] + 2.0 * p.[2])
    let catVar = catProbs |> Array.mapi (fun i p -> p.[1] + 4.0 * p.[2] - catMean.[i] ** 2.0)
    let bernP = [| 0.1; 0.5; 0.9 |]
    let beA, beB = [| 2.0; 0.5 |], [| 3.0; 0.5 |]
    let gA, gB = [| 0.5; 3.0 |], [| 1.0; 2.0 |]
    let alpha = [| 1.0; 2.0; 3.0 |]
    let a0 = Array.sum alpha
    let expRate = [| 0.5; 4.0 |]
    let poisRate = [| 0.3; 7.0 |]
    let lo, hi = [| -1.0; 2.0 |], [| 3.0; 2.5 |]
    let lnMu, lnSig = [| 0.0; 0.5 |], [| 0.25; 0.5 |]
    let lpMu, lpB = [| 0.0; 1.0 |], [| 1.0; 0.5 |]
    let mvLoc, mvSc = [| 0.0; 1.0; 2.0 |], [| 1.0; 0.5; 2.0 |]
    [ Normal(vec [| 0.5; -1.0 |], vec [| 1.0; 2.0 |]), [| 0.5; -1.0 |], [| 1.0; 4.0 |]
      Bernoulli.FromLogits(vec (bernP |> Array.map (fun p -> Math.Log(p / (1.0 - p))))), bernP, (bernP |> Array.map (fun p -> p * (1.0 - p)))
      Categorical.FromProbs(mat catProbs), catMean, catVar
      OneHotCategorical.FromProbs(mat catProbs), Array.concat catProbs, (Array.concat catProbs |> Array.map (fun p -> p * (1.0 - p)))
      Beta(vec beA, vec beB),
        Array.map2 (fun a b -> a / (a + b)) beA beB,
        Array.map2 (fun a b -> a * b / ((a + b) ** 2.0 * (a + b + 1.0))) beA beB
      Gamma(vec gA, vec gB), Array.map2 (/) gA gB, Array.map2 (fun a b -> a / (b * b)) gA gB
      Dirichlet(vec alpha), (alpha |> Array.map (fun a -> a / a0)), (alpha |> Array.map (fun a -> a * (a0 - a) / (a0 * a0 * (a0 + 1.0))))
      Exponential(vec expRate), (expRate |> Array.map (fun l -> 1.0 / l)), (expRate |> Array.map (fun l -> 1.0 / (l * l)))
      Poisson(vec poisRate), poisRate, poisRate
      Uniform(vec lo, vec hi), Array.map2 (fun l h -> (l + h) / 2.0) lo hi, Array.map2 (fun l h -> (h - l) ** 2.0 / 12.0) lo hi
      LogNormal(vec lnMu, vec lnSig),
        Array.map2 (fun m s -> Math.Exp(m + s * s / 2.0)) lnMu lnSig,
        Array.map2 (fun m s -> (Math.Exp(s * s) - 1.0) * Math.Exp(2.0 * m + s * s)) lnMu lnSig
      Laplace(vec lpMu, vec lpB), lpMu, (lpB |> Array.map (fun b -> 2.0 * b * b))
      MultivariateNormalDiag(vec mvLoc, vec mvSc), mvLoc, (mvSc |> Array.map (fun s -> s * s)) ]

let samplingTests =
    testList "Sample" [
        testCase "same seed gives the same bits, another seed other draws (float64 and float32)" <| fun () ->
            for d, _, _ in momentCases () do
                let a = d.Sample(gen 11UL, 50L)
                let b = d.Sample(gen 11UL, 50L)
                let c = d.Sample(gen 12UL, 50L)
                Expect.isTrue (sameBits a b) (d.Name + ": same seed, same draws")
                Expect.isFalse (sameBits a c) (d.Name + ": another seed, other draws")
            let single : Distribution list =
                [ Bernoulli.FromProbs(torch.tensor([| 0.3f; 0.6f |]))
                  Gamma(torch.tensor([| 0.7f |]), torch.tensor([| 1.0f |]))
                  Beta(torch.tensor([| 0.7f |]), torch.tensor([| 2.0f |]))
                  Dirichlet(torch.tensor([| 0.7f; 1.0f; 2.0f |]))
                  Poisson(torch.tensor([| 2.0f |]))
                  Categorical.FromLogits(torch.tensor([| 0.1f; 0.2f; 0.3f |]))
                  Exponential(torch.tensor([| 2.0f |]))
                  Laplace(torch.tensor([| 0.0f |]), torch.tensor([| 1.0f |])) ]
            for d in single do
                let a = d.Sample(gen 3UL, 100L)
                let b = d.Sample(gen 3UL, 100L)
                Expect.isTrue (sameBits a b) (d.Name + " float32: same seed, same draws")
                if d.Name <> "Categorical" then
                    Expect.equal a.dtype f32 (d.Name + ": float32 parameters give float32 draws")

        testCase "draws have shape sampleShape ++ batch ++ event, the right dtype, and lie in the support" <| fun () ->
            for d, _, _ in momentCases () do
                let x = d.Sample(gen 5UL, 4L, 3L)
                expectShape d.Name x (Array.concat [ [| 4L; 3L |]; d.BatchShape; d.EventShape ])
                let expectedType = if d :? Categorical then torch.ScalarType.Int64 else f64
                Expect.equal x.dtype expectedType (d.Name + ": dtype of draws")
                Expect.isTrue (d.Support.Contains x) (d.Name + ": draws lie in the support " + d.Support.Description)
                let one = d.Sample(gen 5UL)
                expectShape (d.Name + " (no sample shape)") one (Array.append d.BatchShape d.EventShape)
                let fromDefault = d.Sample(null, 2L)
                expectShape (d.Name + " (default generator)") fromDefault (Array.concat [ [| 2L |]; d.BatchShape; d.EventShape ])

        testCase "sample means and variances match the closed forms (|z| < 5)" <| fun () ->
            let mutable seed = 100UL
            for d, means, vars in momentCases () do
                seed <- seed + 1UL
                expectMoments d.Name (d.Sample(gen seed, n)) means vars

        testCase "Gamma, Beta and Dirichlet with small concentrations stay inside their supports" <| fun () ->
            let cases : Distribution list =
                [ Gamma(vec [| 0.01; 0.05 |], scalar 1.0)
                  Beta(vec [| 0.02; 0.05 |], vec [| 0.03; 50.0 |])
                  Dirichlet(vec [| 0.02; 0.01; 0.05 |])
                  Gamma(torch.tensor([| 0.01f |]), torch.tensor([| 1.0f |]))
                  Beta(torch.tensor([| 0.02f |]), torch.tensor([| 0.03f |])) ]
            for d in cases do
                let x = d.Sample(gen 9UL, 2000L)
                Expect.isTrue (d.Support.Contains x) (d.Name + ": draws in the support")
                let lp = d.LogProb x
                Expect.isTrue (lp.isfinite().all().item<bool> ()) (d.Name + ": finite log-probabilities of draws")

        testCase "Exponential and Laplace draws are finite" <| fun () ->
            for d in [ Exponential(torch.tensor([| 1.0f |])) :> Distribution; Laplace(torch.tensor([| 0.0f |]), torch.tensor([| 1.0f |])) ] do
                let x = d.Sample(gen 21UL, 200000L)
                Expect.isTrue (x.isfinite().all().item<bool> ()) (d.Name + ": finite draws")
    ]

// ---------------------------------------------------------------------------------------------
// Gradients: the reparameterisation claim and the score function

/// f applied to a draw x, as a tensor expression.
type private Objective = Tensor -> Tensor

/// The pathwise estimator: per-draw gradients of f(x) for N independent copies of the parameters.
let private pathwise (make: Tensor[] -> Distribution) (parameters: Tensor[]) (f: Objective) seed =
    let d = make parameters
    Expect.isTrue d.IsReparameterized (d.Name + " claims to be reparameterised")
    let x = d.RSample(gen seed)
    Expect.isTrue x.requires_grad (d.Name + ": RSample carries a gradient")
    (f x).sum().backward ()
    parameters |> Array.map (fun p -> p.grad)

/// The score-function estimator: per-draw gradients of f(x) · log p(x), x drawn without gradient.
let private scoreFunction (make: Tensor[] -> Distribution) (parameters: Tensor[]) (f: Objective) seed =
    let d = make parameters
    Expect.isFalse d.IsReparameterized (d.Name + " does not claim to be reparameterised")
    Expect.throwsT<NotSupportedException> (fun () -> d.RSample(gen seed) |> ignore) (d.Name + ": RSample throws")
    let x = d.Sample(gen seed)
    Expect.isFalse x.requires_grad (d.Name + ": Sample carries no gradient")
    let surrogate = f x * d.LogProb x
    surrogate.sum().backward ()
    parameters |> Array.map (fun p -> p.grad)

/// N copies of a value as a leaf that requires a gradient (shape [N] ++ shape of the row).
let private copies (row: float[]) =
    if row.Length = 1 then leaf (vec (Array.create (int n) row.[0]))
    else leaf (vec(row).expand (n, int64 row.Length))

let gradientTests =
    testList "Gradients" [
        testCase "Normal pathwise: f = (x − a)², ∇μ = 2(μ − a), ∇σ = 2σ" <| fun () ->
            let mu, sigma, a = 0.7, 1.3, -0.4
            let g = pathwise (fun p -> Normal(p.[0], p.[1])) [| copies [| mu |]; copies [| sigma |] |] (fun x -> (x - a).square ()) 1UL
            expectGradient "Normal ∇μ" g.[0] [| 2.0 * (mu - a) |]
            expectGradient "Normal ∇σ" g.[1] [| 2.0 * sigma |]

        testCase "Exponential pathwise: f = x, ∇λ E[x] = −1/λ²" <| fun () ->
            let lam = 1.7
            let g = pathwise (fun p -> Exponential(p.[0])) [| copies [| lam |] |] id 2UL
            expectGradient "Exponential ∇λ" g.[0] [| -1.0 / (lam * lam) |]

        testCase "Uniform pathwise: f = x², E = (lo² + lo·hi + hi²)/3" <| fun () ->
            let lo, hi = -0.5, 2.0
            let g = pathwise (fun p -> Uniform(p.[0], p.[1])) [| copies [| lo |]; copies [| hi |] |] (fun x -> x.square ()) 3UL
            expectGradient "Uniform ∇lo" g.[0] [| (2.0 * lo + hi) / 3.0 |]
            expectGradient "Uniform ∇hi" g.[1] [| (lo + 2.0 * hi) / 3.0 |]

        testCase "LogNormal pathwise: f = x, E = exp(μ + σ²/2)" <| fun () ->
            let mu, sigma = 0.2, 0.6
            let m = Math.Exp(mu + sigma * sigma / 2.0)
            let g = pathwise (fun p -> LogNormal(p.[0], p.[1])) [| copies [| mu |]; copies [| sigma |] |] id 4UL
            expectGradient "LogNormal ∇μ" g.[0] [| m |]
            expectGradient "LogNormal ∇σ" g.[1] [| sigma * m |]

        testCase "Laplace pathwise: f = (x − a)², E = (μ − a)² + 2b²" <| fun () ->
            let mu, b, a = -0.3, 0.8, 0.5
            let g = pathwise (fun p -> Laplace(p.[0], p.[1])) [| copies [| mu |]; copies [| b |] |] (fun x -> (x - a).square ()) 5UL
            expectGradient "Laplace ∇μ" g.[0] [| 2.0 * (mu - a) |]
            expectGradient "Laplace ∇b" g.[1] [| 4.0 * b |]

        testCase "MultivariateNormalDiag pathwise per coordinate: f = Σ (x_d − a_d)²" <| fun () ->
            let mu, sigma, a = [| 0.0; 1.0; -2.0 |], [| 0.5; 1.0; 2.0 |], [| 1.0; 1.0; 0.0 |]
            let aT = vec a
            let g = pathwise (fun p -> MultivariateNormalDiag(p.[0], p.[1])) [| copies mu; copies sigma |]
                             (fun x -> (x - aT).square().sum (-1L)) 6UL
            expectGradient "MVN ∇μ" g.[0] (Array.map2 (fun m ai -> 2.0 * (m - ai)) mu a)
            expectGradient "MVN ∇σ" g.[1] (sigma |> Array.map (fun s -> 2.0 * s))

        testCase "Bernoulli score function, logits and probs: ∇ = σ'(θ)(f(1) − f(0))" <| fun () ->
            let theta, c = 0.4, 0.3
            let f : Objective = fun x -> (x - c).square ()
            let diff = (1.0 - c) ** 2.0 - c ** 2.0
            let s = sigmoid theta
            let g = scoreFunction (fun p -> Bernoulli.FromLogits(p.[0])) [| copies [| theta |] |] f 7UL
            expectGradient "Bernoulli ∇logit" g.[0] [| s * (1.0 - s) * diff |]
            let gp = scoreFunction (fun p -> Bernoulli.FromProbs(p.[0])) [| copies [| 0.35 |] |] f 8UL
            expectGradient "Bernoulli ∇p" gp.[0] [| diff |]

        testCase "Categorical and OneHotCategorical score function against enumeration" <| fun () ->
            let theta = [| 0.5; -1.0; 0.2 |]
            let cost = [| 1.0; -2.0; 4.0 |]
            let z = theta |> Array.sumBy Math.Exp
            let p = theta |> Array.map (fun t -> Math.Exp t / z)
            let e = Array.fold2 (fun s pk ck -> s + pk * ck) 0.0 p cost
            let exact = Array.map2 (fun pk ck -> pk * (ck - e)) p cost
            let costT = vec cost
            let g = scoreFunction (fun q -> Categorical.FromLogits(q.[0])) [| copies theta |] (fun x -> costT.index_select (0L, x)) 9UL
            expectGradient "Categorical ∇logits" g.[0] exact
            let gh = scoreFunction (fun q -> OneHotCategorical.FromLogits(q.[0])) [| copies theta |] (fun x -> (x * costT).sum (-1L)) 10UL
            expectGradient "OneHotCategorical ∇logits" gh.[0] exact
            // From probabilities (normalised inside): ∂/∂p_j of Σ p_k c_k / Σ p_k at Σ p = 1 is c_j − E.
            let gpr = scoreFunction (fun q -> Categorical.FromProbs(q.[0])) [| copies p |] (fun x -> costT.index_select (0L, x)) 11UL
            expectGradient "Categorical ∇probs" gpr.[0] (cost |> Array.map (fun ck -> ck - e))

        testCase "Poisson score function: f = x², E = λ + λ², ∇ = 1 + 2λ" <| fun () ->
            let lam = 2.5
            let g = scoreFunction (fun p -> Poisson(p.[0])) [| copies [| lam |] |] (fun x -> x.square ()) 12UL
            expectGradient "Poisson ∇λ" g.[0] [| 1.0 + 2.0 * lam |]

        testCase "Gamma score function: f = x, E = α/β" <| fun () ->
            let a, b = 2.5, 1.5
            let g = scoreFunction (fun p -> Gamma(p.[0], p.[1])) [| copies [| a |]; copies [| b |] |] id 13UL
            expectGradient "Gamma ∇α" g.[0] [| 1.0 / b |]
            expectGradient "Gamma ∇β" g.[1] [| -a / (b * b) |]

        testCase "Beta score function: f = x, E = a/(a + b)" <| fun () ->
            let a, b = 2.0, 3.0
            let g = scoreFunction (fun p -> Beta(p.[0], p.[1])) [| copies [| a |]; copies [| b |] |] id 14UL
            expectGradient "Beta ∇a" g.[0] [| b / ((a + b) ** 2.0) |]
            expectGradient "Beta ∇b" g.[1] [| -a / ((a + b) ** 2.0) |]

        testCase "Dirichlet score function: f = x₀, E = α₀/Σα" <| fun () ->
            let alpha = [| 1.5; 2.0; 0.7 |]
            let s = Array.sum alpha
            let exact = alpha |> Array.mapi (fun j aj -> ((if j = 0 then s else 0.0) - alpha.[0]) / (s * s))
            let g = scoreFunction (fun p -> Dirichlet(p.[0])) [| copies alpha |] (fun x -> x.select (-1L, 0L)) 15UL
            expectGradient "Dirichlet ∇α" g.[0] exact

        testCase "the harness rejects a wrong estimator (score term with the wrong sign)" <| fun () ->
            let theta = 0.4
            let x0 = copies [| theta |]
            let d = Bernoulli.FromLogits x0
            let x = d.Sample(gen 16UL)
            let wrong = (x - 0.3).square () * d.LogProb(x).neg ()
            wrong.sum().backward ()
            let s = sigmoid theta
            Expect.throws (fun () -> expectGradient "wrong" x0.grad [| s * (1.0 - s) * 0.4 |]) "a sign error is detected"

        testCase "Sample carries no gradient for the reparameterised families either" <| fun () ->
            let p = leaf (vec [| 1.0; 2.0 |])
            let ds : Distribution list =
                [ Normal(p, p); Exponential p; Uniform(p, p * 2.0); LogNormal(p, p); Laplace(p, p)
                  MultivariateNormalDiag(p, p) ]
            for d in ds do
                Expect.isFalse (d.Sample(gen 17UL).requires_grad) (d.Name + ": Sample has no gradient")
    ]

// ---------------------------------------------------------------------------------------------
// Parameter checks and supports

let parameterTests =
    let nan = Double.NaN
    let invalid : (string * (unit -> Distribution) * string) list =
        [ "Normal scale −1", (fun () -> Normal(scalar 0.0, scalar -1.0)), "scale"
          "Normal scale NaN", (fun () -> Normal(scalar 0.0, scalar nan)), "scale"
          "Normal loc NaN", (fun () -> Normal(scalar nan, scalar 1.0)), "loc"
          "Bernoulli probs 1.5", (fun () -> Bernoulli.FromProbs(vec [| 0.5; 1.5 |])), "probs"
          "Bernoulli probs −0.1", (fun () -> Bernoulli.FromProbs(scalar -0.1)), "probs"
          "Bernoulli probs NaN", (fun () -> Bernoulli.FromProbs(scalar nan)), "probs"
          "Bernoulli logits NaN", (fun () -> Bernoulli.FromLogits(scalar nan)), "logits"
          "Categorical probs not summing to 1", (fun () -> Categorical.FromProbs(vec [| 0.5; 0.6 |])), "probs"
          "Categorical probs negative", (fun () -> Categorical.FromProbs(vec [| -0.1; 1.1 |])), "probs"
          "Categorical probs NaN", (fun () -> Categorical.FromProbs(vec [| nan; 1.0 |])), "probs"
          "Categorical logits NaN", (fun () -> Categorical.FromLogits(vec [| nan; 1.0 |])), "logits"
          "Categorical logits +∞", (fun () -> Categorical.FromLogits(vec [| infinity; 1.0 |])), "logits"
          "Categorical logits all −∞", (fun () -> Categorical.FromLogits(vec [| -infinity; -infinity |])), "logits"
          "OneHotCategorical probs", (fun () -> OneHotCategorical.FromProbs(vec [| 0.2; 0.2 |])), "probs"
          "Gamma concentration −1", (fun () -> Gamma(scalar -1.0, scalar 1.0)), "concentration"
          "Gamma rate 0", (fun () -> Gamma(scalar 1.0, scalar 0.0)), "rate"
          "Gamma rate NaN", (fun () -> Gamma(scalar 1.0, scalar nan)), "rate"
          "Beta concentration1 0", (fun () -> Beta(scalar 0.0, scalar 1.0)), "concentration1"
          "Beta concentration0 NaN", (fun () -> Beta(scalar 1.0, scalar nan)), "concentration0"
          "Dirichlet negative", (fun () -> Dirichlet(vec [| 1.0; -1.0 |])), "concentration"
          "Exponential rate −2", (fun () -> Exponential(scalar -2.0)), "rate"
          "Exponential rate NaN", (fun () -> Exponential(scalar nan)), "rate"
          "Poisson rate −1", (fun () -> Poisson(scalar -1.0)), "rate"
          "Poisson rate NaN", (fun () -> Poisson(scalar nan)), "rate"
          "Uniform low > high", (fun () -> Uniform(scalar 2.0, scalar 1.0)), "low"
          "Uniform low = high", (fun () -> Uniform(vec [| 0.0; 1.0 |], scalar 1.0)), "low"
          "Uniform high NaN", (fun () -> Uniform(scalar 0.0, scalar nan)), "high"
          "LogNormal scale 0", (fun () -> LogNormal(scalar 0.0, scalar 0.0)), "scale"
          "Laplace scale −1", (fun () -> Laplace(scalar 0.0, scalar -1.0)), "scale"
          "Laplace loc NaN", (fun () -> Laplace(scalar nan, scalar 1.0)), "loc"
          "MultivariateNormalDiag scaleDiag 0", (fun () -> MultivariateNormalDiag(vec [| 0.0; 0.0 |], vec [| 1.0; 0.0 |])), "scaleDiag"
          "Independent passes through", (fun () -> Normal(vec [| 0.0 |], vec [| -1.0 |]).ToEvent 1), "scale" ]
    testList "ParameterError" [
        testCase "invalid parameters give a sentence naming the parameter" <| fun () ->
            for label, make, name in invalid do
                match make().ParameterError() with
                | null -> failtestf "%s: no error reported" label
                | message ->
                    Expect.stringStarts message (name + " ") (sprintf "%s: the message names %s (%s)" label name message)

        testCase "valid parameters give null" <| fun () ->
            for d, _, _ in momentCases () do
                Expect.isNull (d.ParameterError()) (d.Name + ": valid parameters")
            let edge : Distribution list =
                [ Bernoulli.FromProbs(vec [| 0.0; 1.0 |])
                  Bernoulli.FromLogits(vec [| infinity; -infinity |])
                  Categorical.FromLogits(vec [| -infinity; 0.0 |])
                  Poisson(scalar 0.0) ]
            for d in edge do
                Expect.isNull (d.ParameterError()) (d.Name + ": boundary parameters are valid")

        testCase "constructors reject integer tensors and missing event dimensions" <| fun () ->
            Expect.throwsT<ArgumentException> (fun () -> Bernoulli.FromProbs(torch.tensor([| 1L |])) |> ignore) "integer probs"
            Expect.throwsT<ArgumentException> (fun () -> Dirichlet(scalar 1.0) |> ignore) "scalar Dirichlet"
            Expect.throwsT<ArgumentException> (fun () -> MultivariateNormalDiag(scalar 0.0, scalar 1.0) |> ignore) "scalar MVN"
            Expect.throwsT<ArgumentException> (fun () -> Categorical.FromLogits(scalar 0.0) |> ignore) "scalar Categorical"
    ]

let constraintTests =
    let check (c: Constraint) (x: float[]) = values (c.Check(vec x).to_type f64) |> Array.map (fun v -> v = 1.0)
    testList "Constraints" [
        testCase "elementwise supports" <| fun () ->
            let nan, inf = Double.NaN, infinity
            Expect.sequenceEqual (check Constraints.Real [| 0.0; -3.0; inf; nan |]) [| true; true; false; false |] "Real"
            Expect.sequenceEqual (check Constraints.Positive [| 1.0; 0.0; -1.0; nan |]) [| true; false; false; false |] "Positive"
            Expect.sequenceEqual (check Constraints.NonNegative [| 1.0; 0.0; -1e-9; nan |]) [| true; true; false; false |] "NonNegative"
            Expect.sequenceEqual (check Constraints.UnitInterval [| 0.0; 1.0; 1.1; -0.1; nan |]) [| true; true; false; false; false |] "UnitInterval"
            Expect.sequenceEqual (check Constraints.Boolean [| 0.0; 1.0; 0.5 |]) [| true; true; false |] "Boolean"
            Expect.sequenceEqual (check Constraints.NonNegativeInteger [| 0.0; 3.0; 1.5; -1.0 |]) [| true; true; false; false |] "NonNegativeInteger"
            Expect.sequenceEqual (check (Constraints.IntegerInterval(0L, 2L)) [| 0.0; 2.0; 3.0; 0.5 |]) [| true; true; false; false |] "IntegerInterval"
            Expect.sequenceEqual (check (Constraints.Interval(scalar 0.0, scalar 1.0)) [| 0.0; 0.5; 1.0 |]) [| true; true; false |] "Interval"

        testCase "event supports reduce the last dimension" <| fun () ->
            let simplex = Constraints.Simplex.Check(mat [| [| 0.2; 0.8 |]; [| 0.5; 0.6 |]; [| -0.1; 1.1 |] |])
            expectShape "Simplex check" simplex [| 3L |]
            Expect.sequenceEqual (values (simplex.to_type f64)) [| 1.0; 0.0; 0.0 |] "Simplex"
            let oneHot = Constraints.OneHot.Check(mat [| [| 0.0; 1.0; 0.0 |]; [| 1.0; 1.0; 0.0 |]; [| 0.5; 0.5; 0.0 |] |])
            Expect.sequenceEqual (values (oneHot.to_type f64)) [| 1.0; 0.0; 0.0 |] "OneHot"

        testCase "values outside each family's support are detected" <| fun () ->
            let outside : (Distribution * Tensor) list =
                [ Bernoulli.FromProbs(scalar 0.5), scalar 0.5
                  Categorical.FromProbs(vec [| 0.5; 0.5 |]), torch.tensor(2L)
                  OneHotCategorical.FromProbs(vec [| 0.5; 0.5 |]), vec [| 1.0; 1.0 |]
                  Beta(scalar 1.0, scalar 1.0), scalar 1.5
                  Gamma(scalar 1.0, scalar 1.0), scalar -1.0
                  Dirichlet(vec [| 1.0; 1.0 |]), vec [| 0.7; 0.7 |]
                  Exponential(scalar 1.0), scalar -0.5
                  Poisson(scalar 1.0), scalar 1.5
                  Uniform(scalar 0.0, scalar 1.0), scalar 1.0
                  LogNormal(scalar 0.0, scalar 1.0), scalar 0.0
                  Laplace(scalar 0.0, scalar 1.0), scalar nan
                  MultivariateNormalDiag(vec [| 0.0 |], scalar 1.0), vec [| infinity |] ]
            for d, x in outside do
                Expect.isFalse (d.Support.Contains x) (sprintf "%s: a value outside %s" d.Name d.Support.Description)
    ]

let factoryTests =
    testList "Dist" [
        testCase "doubles give float64 scalars, a double beside a tensor follows the tensor" <| fun () ->
            Expect.equal (torch.tensor(1.0).dtype) f64 "TorchSharp's tensor(double) is float64"
            let d = Dist.Normal(0.0, 1.0)
            Expect.equal d.DType f64 "Dist.Normal(0.0, 1.0) is float64"
            Expect.sequenceEqual d.BatchShape [||] "scalar batch"
            let mu = torch.tensor([| 0.0f; 1.0f |])
            let d32 = Dist.Normal(mu, 0.1)
            Expect.equal d32.DType f32 "float32 loc keeps float32"
            Expect.equal (d32.Sample(gen 1UL).dtype) f32 "float32 draws"
            Expect.equal (Dist.Categorical(0.2, 0.8).Categories) 2L "Categorical from doubles"
            Expect.sequenceEqual (Dist.Dirichlet(1.0, 2.0, 3.0).EventShape) [| 3L |] "Dirichlet from doubles"
            Expect.isNull (Dist.Bernoulli(0.3).ParameterError()) "Bernoulli from a double"
            Expect.equal (Dist.MultivariateNormalDiag(mu, 2.0).EventShape) [| 2L |] "MVN with one scale"
    ]

[<Tests>]
let distributionTests =
    testList "Distributions" [ logProbTests; samplingTests; gradientTests; parameterTests; constraintTests; factoryTests ]
