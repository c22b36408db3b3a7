/// Exact tests (no false alarms) of Scg.Verification's quadrature rules and exact expectations and gradients
/// (float64): the Gauss rules reproduce closed-form moments and integrals to 1e-8; Exact.Expectation and
/// Exact.Gradient reproduce closed forms on small discrete, continuous, mixed, plated, observed and value-dependent
/// models, and Hessians through Derivatives; too-large or unsupported models are refused with the sites named; the
/// RunOptions.SiteValues hook that Exact replays through behaves as documented.
module Scg.Tests.VerificationExactTests

open System
open System.Collections.Generic
open Expecto
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Estimators
open Scg.Verification
open Scg.Verification.Quadrature
open Scg.Verification.Checks

type Tensor = TorchSharp.torch.Tensor

let private model = ModelBuilder()
let private f64 (x: float) = torch.tensor(x, dtype = torch.ScalarType.Float64)
let private leaf (x: float) = torch.tensor(x, dtype = torch.ScalarType.Float64, requires_grad = true)
let private leaves (xs: float[]) = torch.tensor(xs, dtype = torch.ScalarType.Float64, requires_grad = true)
let private named (xs: (string * Tensor) list) = xs |> List.map (fun (n, t) -> KeyValuePair(n, t)) |> ResizeArray :> IReadOnlyList<_>
let private close (tol: float) (actual: float) (expected: float) (what: string) =
    Expect.isLessThanOrEqual (abs (actual - expected)) (tol * (1.0 + abs expected)) (sprintf "%s: %.15g vs %.15g" what actual expected)
let private sigmoid x = 1.0 / (1.0 + exp -x)
let private tooLarge (f: unit -> unit) : ModelTooLargeException =
    try
        f ()
        failtest "expected a ModelTooLargeException"
    with :? ModelTooLargeException as e -> e
let private gradient (ps: (string * Tensor) list) (m: Model<'T>) =
    Exact.Gradient(m, ParamStore(), named ps)

[<Tests>]
let quadrature =
    testList "verification: quadrature" [
        test "Gauss–Hermite reproduces Normal moments and E[exp X] to 1e-8" {
            let mu, sd = 0.7, 1.3
            // E[X^k] for k = 0 … 8, from the central moments of N(0, σ²) (0, σ², 0, 3σ⁴, 0, 15σ⁶, 0, 105σ⁸)
            let central k = if k % 2 = 1 then 0.0 else Seq.fold (fun a j -> a * float j) 1.0 [ 1 .. 2 .. k - 1 ] * sd ** float k
            let binom n k = Seq.fold (fun a j -> a * float (n - j) / float (j + 1)) 1.0 [ 0 .. k - 1 ]
            for k in 0 .. 8 do
                let exact = Seq.sum [ for j in 0 .. k -> binom k j * mu ** float (k - j) * central j ]
                for order in [ 5; 20; 60 ] do
                    close 1e-10 (GaussRules.NormalExpectation(mu, sd, order, Func<float, float>(fun x -> x ** float k))) exact (sprintf "E[X^%d], %d nodes" k order)
            close 1e-10 (GaussRules.NormalExpectation(mu, sd, 30, Func<float, float> Math.Exp)) (exp (mu + sd * sd / 2.0)) "E[exp X]"
            close 1e-10 (GaussRules.NormalExpectation(0.0, 1.0, 40, Func<float, float> Math.Cos)) (exp -0.5) "E[cos Z]"
            let rule = GaussRules.Hermite 2
            close 1e-14 rule.Nodes.[1] (1.0 / sqrt 2.0) "2-point Hermite node"
            close 1e-14 (Seq.sum rule.Weights) (sqrt Math.PI) "Hermite weights sum to √π"
        }
        test "Gauss–Legendre integrates polynomials exactly and smooth functions to 1e-8" {
            let a, b = -0.4, 2.3
            for k in 0 .. 15 do
                let exact = (b ** float (k + 1) - a ** float (k + 1)) / float (k + 1)
                close 1e-12 (GaussRules.Integral(a, b, 8, Func<float, float>(fun x -> x ** float k))) exact (sprintf "∫ x^%d on [a, b], 8 nodes" k)
            close 1e-12 (GaussRules.Integral(0.0, Math.PI, 20, Func<float, float> Math.Sin)) 2.0 "∫ sin on [0, π]"
            close 1e-12 (GaussRules.Integral(0.0, 1.0, 20, Func<float, float> Math.Exp)) (Math.E - 1.0) "∫ exp on [0, 1]"
            let rule = GaussRules.Legendre 3
            close 1e-14 rule.Nodes.[2] (sqrt 0.6) "3-point Legendre node"
            close 1e-14 rule.Weights.[1] (8.0 / 9.0) "3-point Legendre middle weight"
            close 1e-14 (Seq.sum (GaussRules.Legendre 150).Weights) 2.0 "150-point weights sum to 2"
        }
        test "standard normal tail and Bonferroni bounds" {
            close 1e-12 (StandardNormal.UpperTail 1.96) 0.0249978951482204 "Q(1.96)"
            close 1e-10 (StandardNormal.UpperTail 5.0) 2.866515718791939e-7 "Q(5)"
            close 1e-10 (StandardNormal.UpperTail 8.0) 6.220960574271785e-16 "Q(8)"
            close 1e-10 (StandardNormal.TwoSidedBound 0.05) 1.959963984540054 "z for 5% two-sided"
            close 1e-10 (StandardNormal.BonferroniBound(1e-3, 10)) (StandardNormal.TwoSidedBound 1e-4) "Bonferroni"
        }
        test "Student's t tail and bounds match closed forms (ν = 1, 2, 3), tables, and the normal limit" {
            let rel (actual: float) (expected: float) what =
                Expect.isLessThanOrEqual (abs (actual / expected - 1.0)) 1e-12 (sprintf "%s: %.15g vs %.15g" what actual expected)
            for t in [ 0.1; 1.0; 2.5; 10.0; 1e3; 1e6 ] do
                rel (StudentT.UpperTail(t, 1.0)) (atan (1.0 / t) / Math.PI) (sprintf "Cauchy tail at %g" t)
                let r = sqrt (t * t + 2.0)
                rel (StudentT.UpperTail(t, 2.0)) (1.0 / (r * (r + t))) (sprintf "ν = 2 tail at %g" t)
                let u = t / sqrt 3.0
                if t < 100.0 then
                    rel (StudentT.UpperTail(t, 3.0)) (0.5 - (atan u + u / (1.0 + u * u)) / Math.PI) (sprintf "ν = 3 tail at %g" t)
            close 1e-14 (StudentT.UpperTail(0.0, 7.0)) 0.5 "median"
            close 1e-14 (StudentT.UpperTail(-1.3, 5.0) + StudentT.UpperTail(1.3, 5.0)) 1.0 "symmetry"
            close 1e-10 (StudentT.TwoSidedBound(0.05, 10.0)) 2.2281388519649385 "t table: ν = 10, 5 % two-sided"
            close 1e-10 (StudentT.TwoSidedBound(0.01, 29.0)) 2.7563859036706 "t table: ν = 29, 1 % two-sided"
            rel (StudentT.UpperTail(5.0, infinity)) (StandardNormal.UpperTail 5.0) "ν = ∞ is the normal"
            Expect.isLessThan (abs (StudentT.UpperTail(5.0, 1e9) / StandardNormal.UpperTail 5.0 - 1.0)) 1e-6 "large ν approaches the normal (the gap shrinks as 1/ν)"
            // the heavier tail at small N that the checks account for: |z| ≥ 5 with 30 estimates
            let p29 = 2.0 * StudentT.UpperTail(5.0, 29.0)
            Expect.isTrue (p29 > 2.4e-5 && p29 < 2.6e-5) (sprintf "P(|T29| > 5) = %g, about 44 × the normal's 5.7e-7" p29)
            close 1e-10 (StudentT.BonferroniBound(1e-3, 10, 50.0)) (StudentT.TwoSidedBound(1e-4, 50.0)) "Bonferroni"
            Expect.throwsT<ArgumentOutOfRangeException> (fun () -> StudentT.TwoSidedBound(0.0, 5.0) |> ignore) "rate 0"
            Expect.throwsT<ArgumentOutOfRangeException> (fun () -> StudentT.UpperTail(1.0, 0.0) |> ignore) "ν = 0"
        }
    ]

[<Tests>]
let expectations =
    testList "verification: exact expectations" [
        test "Bernoulli: value and gradient match the closed form" {
            let theta = leaf 0.4
            let m = model {
                let! b = Model.Sample("b", Bernoulli.FromLogits(theta))
                let! _ = Model.Cost("f", (b - 0.3).square() * 2.0 + theta.square() * b)
                return () }
            let p = sigmoid 0.4
            let f1, f0 = 2.0 * 0.49 + 0.16, 2.0 * 0.09
            let g = gradient [ "theta", theta ] m
            close 1e-12 g.Value (p * f1 + (1.0 - p) * f0) "E"
            close 1e-12 g.Gradient.[0].Value (p * (1.0 - p) * (f1 - f0) + p * 0.8) "dE/dθ"
            Expect.equal g.Gradient.[0].Label "theta" "label"
        }
        test "Normal: E[(z − a)²] = (μ − a)² + σ², gradient and Hessian" {
            let mu, sd = leaf 0.3, leaf 0.8
            let m = model {
                let! z = Model.Sample("z", Normal(mu, sd))
                let! _ = Model.Cost("f", (z - 1.1).square())
                return () }
            let e = Exact.Expectation(m, ParamStore())
            close 1e-12 (e.item<float>()) (0.64 + 0.64) "E"
            let h = Derivatives.GradientAndHessian(e, [| mu; sd |])
            let g = h.Gradient.data<float>().ToArray()
            close 1e-12 g.[0] (2.0 * (0.3 - 1.1)) "dE/dμ"
            close 1e-12 g.[1] (2.0 * 0.8) "dE/dσ"
            let hs = h.Hessian.data<float>().ToArray()
            for (i, v) in List.indexed [ 2.0; 0.0; 0.0; 2.0 ] do close 1e-10 hs.[i] v (sprintf "Hessian entry %d" i)
        }
        test "Bernoulli then Normal: mixed discrete and continuous, E[x²] and its gradient" {
            let theta, mu, s = leaf -0.2, leaf 0.5, leaf -0.3
            let m = model {
                let! z = Model.Sample("z", Bernoulli.FromLogits(theta))
                let! x = Model.Sample("x", Normal(mu + z, s.exp()))
                let! _ = Model.Cost("f", x.square())
                return () }
            let p, sd2 = sigmoid -0.2, exp (-0.6)
            let g = gradient [ "theta", theta; "mu", mu; "s", s ] m
            close 1e-12 g.Value (p * (1.5 ** 2.0 + sd2) + (1.0 - p) * (0.25 + sd2)) "E"
            let d = g.ToArray()
            close 1e-12 d.[0] (p * (1.0 - p) * (1.5 ** 2.0 - 0.25)) "dθ"
            close 1e-12 d.[1] (p * 3.0 + (1.0 - p) * 1.0) "dμ"
            close 1e-12 d.[2] (2.0 * sd2) "ds"
        }
        test "plated Bernoulli: every element a dimension; a cost outside the plate reads all elements" {
            let theta = leaves [| 0.2; -0.5; 1.0 |]
            let w = [| 1.0; -2.0; 0.5 |]
            let m = model {
                let! z = Model.Plate("i", 3L, model {
                    let! z = Model.Sample("z", Bernoulli.FromLogits(theta))
                    let! _ = Model.Cost("c", z * torch.tensor(w, dtype = torch.ScalarType.Float64))
                    return z })
                let! _ = Model.Cost("sq", z.sum().square())
                return () }
            let ps = [| 0.2; -0.5; 1.0 |] |> Array.map sigmoid
            let exact (ps: float[]) = Array.sum (Array.map2 (*) ps w) + Array.sum (Array.map (fun p -> p * (1.0 - p)) ps) + (Array.sum ps) ** 2.0
            let g = gradient [ "theta", theta ] m
            close 1e-12 g.Value (exact ps) "E"
            for i in 0 .. 2 do
                let h = 1e-6
                let up = ps |> Array.mapi (fun j p -> if i = j then sigmoid ([| 0.2; -0.5; 1.0 |].[j] + h) else p)
                let dn = ps |> Array.mapi (fun j p -> if i = j then sigmoid ([| 0.2; -0.5; 1.0 |].[j] - h) else p)
                close 1e-7 g.Gradient.[i].Value ((exact up - exact dn) / (2.0 * h)) (sprintf "dθ[%d]" i)
                Expect.equal g.Gradient.[i].Label (sprintf "theta[%d]" i) "element label"
        }
        test "plated Normal (2 elements) and Categorical(3) in a plate of 2" {
            let mu = leaves [| 0.1; -0.4 |]
            let logits = leaves [| 0.3; -0.2; 0.5 |]
            let m = model {
                let! x = Model.Plate("i", 2L, Model.Sample("x", Normal(mu, f64 0.5)))
                let! k = Model.Plate("j", 2L, Model.Sample("k", Categorical.FromLogits(logits.expand(2L, 3L))))
                let! _ = Model.Cost("f", x.square().sum() + k.to_type(torch.ScalarType.Float64).sum())
                return () }
            let probs = logits.softmax(0).data<float>().ToArray()
            // 6 Hermite nodes are exact for the quadratic cost: 6² × 3² = 324 runs
            let g = Exact.Gradient(m, ParamStore(), named [ "mu", mu ], ExactOptions(HermiteOrder = 6))
            close 1e-12 g.Value (0.01 + 0.16 + 2.0 * 0.25 + 2.0 * (probs.[1] + 2.0 * probs.[2])) "E"
            close 1e-12 g.Gradient.[0].Value 0.2 "dμ₀"
            close 1e-12 g.Gradient.[1].Value -0.8 "dμ₁"
        }
        test "Uniform and Beta: Gauss–Legendre through moving bounds and through the density" {
            let lo, hi = leaf -0.5, leaf 1.5
            let mu = model {
                let! x = Model.Sample("x", Uniform(lo, hi))
                let! _ = Model.Cost("f", x.square())
                return () }
            let g = gradient [ "lo", lo; "hi", hi ] mu
            close 1e-12 g.Value ((0.25 - 0.75 + 2.25) / 3.0) "E[x²], Uniform"
            close 1e-12 g.Gradient.[0].Value ((2.0 * -0.5 + 1.5) / 3.0) "d/dlo"
            close 1e-12 g.Gradient.[1].Value ((-0.5 + 3.0) / 3.0) "d/dhi"
            let a, b = leaf 2.0, leaf 3.0
            let mb = model {
                let! x = Model.Sample("x", Beta(a, b))
                let! _ = Model.Cost("f", x)
                return () }
            let g = gradient [ "a", a; "b", b ] mb
            close 1e-12 g.Value 0.4 "E[x], Beta(2, 3)"
            // ∂/∂a of the density carries log x, singular at 0: Gauss–Legendre converges algebraically there
            close 1e-6 g.Gradient.[0].Value (3.0 / 25.0) "d/da"
            close 1e-6 g.Gradient.[1].Value (-2.0 / 25.0) "d/db"
        }
        test "observations count as −log p, and a site sampled only on one branch" {
            let mu = leaf 0.2
            let m = model {
                let! x = Model.Sample("x", Normal(mu, f64 1.0))
                let! _ = Model.Observe("y", Normal(x, f64 1.0), f64 0.5)
                return () }
            let g = gradient [ "mu", mu ] m
            close 1e-12 g.Value (0.5 * log (2.0 * Math.PI) + ((0.5 - 0.2) ** 2.0 + 1.0) / 2.0) "E[−log p(y | x)]"
            close 1e-12 g.Gradient.[0].Value (-(0.5 - 0.2)) "dμ"
            let theta, phi = leaf 0.3, leaf -0.7
            let branching = model {
                let! b = Model.Sample("b", Bernoulli.FromLogits(theta))
                if b.item<float>() = 1.0 then
                    let! c = Model.Sample("c", Bernoulli.FromLogits(phi))
                    let! _ = Model.Cost("f", c)
                    return ()
                else
                    let! _ = Model.Cost("g", f64 0.5)
                    return () }
            let p, q = sigmoid 0.3, sigmoid -0.7
            let g = gradient [ "theta", theta; "phi", phi ] branching
            close 1e-12 g.Value (p * q + (1.0 - p) * 0.5) "E over branches"
            close 1e-12 g.Gradient.[0].Value (p * (1.0 - p) * (q - 0.5)) "dθ"
            close 1e-12 g.Gradient.[1].Value (p * q * (1.0 - q)) "dφ"
        }
        test "a chosen function of the run, and store parameters by default" {
            let m = model {
                let! t = Model.Param("t", fun () -> f64 0.5)
                let! z = Model.Sample("z", Bernoulli.FromLogits(t))
                return z * 3.0 }
            let store = ParamStore()
            let e = Exact.Expectation(m, store, (fun (r: RunResult<Tensor>) -> r.Value))
            close 1e-12 (e.item<float>()) (3.0 * sigmoid 0.5) "E[3 z]"
            let g = Exact.Gradient(model { let! z = m in let! _ = Model.Cost("c", z) in return () }, ParamStore())
            close 1e-12 g.Gradient.[0].Value (3.0 * sigmoid 0.5 * (1.0 - sigmoid 0.5)) "d/dt of the store's parameter"
            Expect.equal g.Gradient.[0].Parameter "t" "the store's parameter"
        }
        test "progress: the runs made so far, every ProgressEvery runs and at the end; a non-positive interval is refused" {
            let m = model {
                let! a = Model.Sample("a", Categorical.FromLogits(torch.zeros(10L, dtype = torch.ScalarType.Float64)))
                let! b = Model.Sample("b", Categorical.FromLogits(torch.zeros(25L, dtype = torch.ScalarType.Float64)))
                let! _ = Model.Cost("c", (a + b).to_type(torch.ScalarType.Float64))
                return () }
            let reports = Collections.Generic.List<int64>()
            let progress = { new IProgress<int64> with member _.Report v = reports.Add v }
            let e = Exact.Expectation(m, ParamStore(), ExactOptions(Progress = progress, ProgressEvery = 100L))
            close 1e-12 (e.item<float>()) (4.5 + 12.0) "E[a + b]"
            Expect.sequenceEqual reports [ 100L; 200L; 250L ] "reports at 100 and 200 runs, and the total"
            reports.Clear()
            Exact.Gradient(m, ParamStore(), options = ExactOptions(Progress = progress, ProgressEvery = 120L)) |> ignore
            Expect.sequenceEqual reports [ 120L; 240L; 250L ] "the gradient reports too"
            Expect.throwsT<ArgumentOutOfRangeException> (fun () -> Exact.Expectation(m, ParamStore(), ExactOptions(ProgressEvery = 0L)) |> ignore) "ProgressEvery = 0"
        }
    ]

[<Tests>]
let refusals =
    testList "verification: too large or unsupported" [
        test "four continuous dimensions: the message names the site and the numbers" {
            let m = model {
                let! x = Model.Plate("i", 4L, Model.Sample("x", Normal(f64 0.0, f64 1.0)))
                let! _ = Model.Cost("f", x.sum())
                return () }
            let e = tooLarge (fun () -> Exact.Expectation(m, ParamStore()) |> ignore)
            Expect.stringContains e.Message "4 continuous dimensions" "the count"
            Expect.stringContains e.Message "MaxContinuousDimensions = 3" "the limit"
            Expect.stringContains e.Message "'x' (Normal, 4 elements × 20 Gauss–Hermite nodes" "the site"
            Expect.sequenceEqual e.Sites [ "x" ] "sites"
        }
        test "too many combinations: the biggest site first" {
            let m = model {
                let! b = Model.Sample("b", Bernoulli.FromLogits(f64 0.0))
                let! k = Model.Plate("i", 12L, Model.Sample("k", Categorical.FromLogits(torch.zeros(12L, 3L, dtype = torch.ScalarType.Float64))))
                let! _ = Model.Cost("f", k.sum().to_type(torch.ScalarType.Float64) + b)
                return () }
            let e = tooLarge (fun () -> Exact.Expectation(m, ParamStore()) |> ignore)
            Expect.stringContains e.Message "1.06288E+06 combinations" "the count"
            Expect.stringContains e.Message "'k' (Categorical, 12 elements × 3 values: 531441 points)" "the site"
            Expect.equal e.Sites.[0] "k" "largest first"
        }
        test "an unsupported distribution is named" {
            let m = model {
                let! x = Model.Sample("g", Gamma(f64 2.0, f64 1.0))
                let! _ = Model.Cost("f", x)
                return () }
            let e = tooLarge (fun () -> Exact.Expectation(m, ParamStore()) |> ignore)
            Expect.stringContains e.Message "site 'g' has a Gamma distribution" "the site and family"
        }
        test "a Beta with a concentration below 1 is refused: its density is unbounded where the nodes cannot follow" {
            let m = model {
                let! x = Model.Sample("x", Beta(f64 2.0, f64 0.5))
                let! _ = Model.Cost("f", x)
                return () }
            let e = tooLarge (fun () -> Exact.Expectation(m, ParamStore()) |> ignore)
            Expect.stringContains e.Message "site 'x' is a Beta with a concentration of 0.5, below 1" "names the site and the concentration"
            Expect.sequenceEqual e.Sites [ "x" ] "sites"
        }
        test "randomness outside Model.Sample is caught, not averaged as if exact" {
            let m = model {
                let! b = Model.Sample("b", Bernoulli.FromLogits(f64 0.0))
                let! _ = Model.Cost("f", b + torch.randn([||], dtype = torch.ScalarType.Float64))
                return () }
            let e = Expect.throwsC (fun () -> Exact.Expectation(m, ParamStore()) |> ignore) id
            Expect.isTrue (e :? InvalidOperationException) (sprintf "an InvalidOperationException, got %s" (e.GetType().Name))
            Expect.stringContains e.Message "draws randomness outside Model.Sample" "says what is wrong"
            // a deterministic model passes the same check: its first combination gives the same value twice
            let d = model {
                let! b = Model.Sample("b", Bernoulli.FromLogits(f64 0.0))
                let! _ = Model.Cost("f", b * 2.0)
                return () }
            close 1e-15 (Exact.Expectation(d, ParamStore()).item<float>()) 1.0 "E[2b] = 1"
        }
    ]

[<Tests>]
let siteValues =
    testList "verification: RunOptions.SiteValues" [
        test "a chosen value is used as replayed, differentiable, and wins over enumeration; null leaves the site alone" {
            let mu = leaf 0.5
            let m = model {
                let! x = Model.Sample("x", Normal(mu, f64 1.0))
                let! b = Model.Sample("b", Bernoulli.FromLogits(f64 0.0), SiteEstimator.Enumerate)
                let! _ = Model.Cost("f", x * 2.0 + b)
                return () }
            let choose (name: string) (d: Distribution) : Tensor =
                match d with
                | :? Normal as n -> n.Loc + n.Scale * 0.25
                | _ -> null
            let run = Interpreter.Sample(m, RunOptions(Seed = 1UL, SiteValues = Func<_, _, _> choose))
            let x = run.Trace.Sample "x"
            Expect.isTrue x.IsReplayed "replayed"
            Expect.floatClose Accuracy.veryHigh (x.Value.item<float>()) 0.75 "value"
            Expect.isFalse (run.Trace.Sample "b").IsReplayed "b left to its estimator"
            let s = Surrogate.Build(run.Trace)
            s.Surrogate.backward()
            Expect.floatClose Accuracy.veryHigh (mu.grad.item<float>()) 2.0 "gradient through the chosen value"
            let both = Interpreter.Sample(m, RunOptions(Seed = 1UL, SiteValues = Func<_, _, _>(fun _ _ -> f64 1.0)))
            Expect.isFalse (both.Trace.Sample "b").IsEnumerated "chosen wins over enumeration"
            Expect.isFalse both.Trace.HasEnumeration "no enumeration"
        }
    ]
