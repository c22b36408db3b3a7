/// The cheaper log-densities (Normal built in place, Normal.Standard, Categorical.Uniform's constant, Bernoulli's
/// sign in one pass, the one-batch-dimension Categorical draw) against their plain
/// definitions: the same values, gradients and shapes, and clear errors for bad input.
module Scg.Tests.FastPathTests

open System
open Expecto
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Estimators

type private Tensor = torch.Tensor

let private f64 = torch.ScalarType.Float64
let private values (x: Tensor) = x.detach().to_type(f64).contiguous().data<float>().ToArray ()
let private leaf (xs: float[]) = torch.tensor(xs, dtype = f64).requires_grad_ true

let private expectClose (tol: float) (what: string) (actual: float[]) (expected: float[]) =
    Expect.equal actual.Length expected.Length (what + ": number of values")
    for i in 0 .. actual.Length - 1 do
        Expect.isLessThanOrEqual (abs (actual.[i] - expected.[i])) tol (sprintf "%s[%d]: %g vs %g" what i actual.[i] expected.[i])

[<Tests>]
let tests =
    testList "fast paths" [
        testCase "Normal log-density: values and gradients (loc, scale, value) match −(x−μ)²/2σ² − log σ − ½ log 2π" <| fun () ->
            let mu, sigma, x = leaf [| 0.3; -1.0; 2.0 |], leaf [| 0.5; 2.0; 1.5 |], leaf [| 1.0; -4.0; 2.0 |]
            let lp = Normal(mu, sigma).LogProb x
            lp.sum().backward ()
            let m, s, v = values mu, values sigma, values x
            let expected = Array.init 3 (fun i -> -0.5 * ((v.[i] - m.[i]) / s.[i]) ** 2.0 - log s.[i] - 0.5 * log (2.0 * Math.PI))
            expectClose 1e-12 "log p" (values lp) expected
            expectClose 1e-12 "∂/∂μ" (values mu.grad) (Array.init 3 (fun i -> (v.[i] - m.[i]) / (s.[i] * s.[i])))
            expectClose 1e-12 "∂/∂σ" (values sigma.grad) (Array.init 3 (fun i -> (v.[i] - m.[i]) ** 2.0 / s.[i] ** 3.0 - 1.0 / s.[i]))
            expectClose 1e-12 "∂/∂x" (values x.grad) (Array.init 3 (fun i -> -(v.[i] - m.[i]) / (s.[i] * s.[i])))

        testCase "Normal log-density broadcasts a value with sample dimensions over the parameters, and the reverse" <| fun () ->
            let d = Normal(torch.tensor([| 0.0; 1.0 |], dtype = f64), torch.tensor([| 1.0; 2.0 |], dtype = f64))
            let lp = d.LogProb(torch.zeros([| 3L; 2L |], dtype = f64))
            Expect.sequenceEqual lp.shape [| 3L; 2L |] "sample dims kept"
            let wide = Normal(torch.zeros([| 4L; 2L |], dtype = f64), torch.ones([| 4L; 2L |], dtype = f64)).LogProb(torch.tensor(0.5, dtype = f64))
            Expect.sequenceEqual wide.shape [| 4L; 2L |] "a scalar value broadcasts to the batch"
            expectClose 1e-12 "values" (values wide) (Array.create 8 (-0.125 - 0.5 * log (2.0 * Math.PI)))

        testCase "Categorical.Uniform has log-probability −log K, the shape of FromLogits(zeros), and draws every category" <| fun () ->
            let u = Categorical.Uniform(4L, [| 3L |], f64)
            let reference = Categorical.FromLogits(torch.zeros([| 3L; 4L |], dtype = f64))
            Expect.sequenceEqual u.BatchShape [| 3L |] "batch shape"
            Expect.equal u.Categories 4L "categories"
            let idx = torch.tensor([| 0L; 3L; 2L; 1L; 1L; 0L |]).reshape(2L, 3L)
            let lp = u.LogProb idx
            Expect.sequenceEqual lp.shape [| 2L; 3L |] "sample dims kept"
            expectClose 1e-15 "log p" (values lp) (values (reference.LogProb idx))
            let draws = u.Sample(new torch.Generator(5UL), 2000L)
            let counts = Array.init 4 (fun k -> draws.eq(torch.tensor(int64 k)).sum().item<int64> ())
            Expect.isTrue (counts |> Array.forall (fun c -> c > 1200L && c < 1800L)) (sprintf "each of 4 categories about 1500 of 6000 draws: %A" counts)
            Expect.sequenceEqual (values (u.Probs)) (values (reference.Probs)) "probabilities"

        testCase "Categorical.Uniform in a plate and under enumeration gives the same trace as FromLogits(zeros)" <| fun () ->
            let withPrior (prior: Categorical) =
                Model.Plate("data", 5L,
                    Model.Bind(Model.Sample("y", prior, SiteEstimator.Enumerate), fun (y: Tensor) ->
                        Model.Observe("x", Normal(y.to_type(f64), torch.tensor(1.0, dtype = f64)), torch.arange(5L, dtype = f64))))
            let run (prior: Categorical) =
                let r = Interpreter.Sample(withPrior prior, RunOptions(Seed = 3UL))
                values (Surrogate.Build(r.Trace).Surrogate)
            let a = run (Categorical.Uniform(3L, [||], f64))
            let b = run (Categorical.FromLogits(torch.zeros([| 3L |], dtype = f64)))
            expectClose 1e-12 "enumerated surrogate" a b

        testCase "Normal.Standard: log-density, gradients, draws and KL are those of Normal(zeros, ones)" <| fun () ->
            let std = Normal.Standard([| 2L; 3L |], f64)
            let reference = Normal(torch.zeros([| 2L; 3L |], dtype = f64), torch.ones([| 2L; 3L |], dtype = f64))
            Expect.isTrue std.IsStandard "flagged"
            Expect.sequenceEqual std.BatchShape [| 2L; 3L |] "batch shape"
            let x1, x2 = leaf [| 0.3; -1.0; 2.0; 0.0; 5.0; -0.25 |], leaf [| 0.3; -1.0; 2.0; 0.0; 5.0; -0.25 |]
            let a, b = std.LogProb(x1.reshape(2L, 3L)), reference.LogProb(x2.reshape(2L, 3L))
            expectClose 1e-15 "log p" (values a) (values b)
            a.sum().backward ()
            b.sum().backward ()
            expectClose 1e-15 "∂/∂x" (values x1.grad) (values x2.grad)
            // a value with sample dimensions, and a scalar value broadcast to the batch
            let wide = torch.randn([| 4L; 2L; 3L |], dtype = f64)
            expectClose 1e-15 "sample dims" (values (std.LogProb wide)) (values (reference.LogProb wide))
            let scalar = torch.tensor(0.5, dtype = f64)
            Expect.sequenceEqual (std.LogProb scalar).shape [| 2L; 3L |] "a scalar value broadcasts to the batch"
            expectClose 1e-15 "scalar value" (values (std.LogProb scalar)) (values (reference.LogProb scalar))
            use g1 = new torch.Generator(4UL)
            use g2 = new torch.Generator(4UL)
            expectClose 0.0 "the same draws" (values (std.RSample(g1, 5L))) (values (reference.RSample(g2, 5L)))
            let q = Normal(torch.tensor([| 0.5; -1.0; 0.0 |], dtype = f64), torch.tensor([| 2.0; 0.5; 1.0 |], dtype = f64))
            let std3 = Normal.Standard([| 3L |], f64)
            expectClose 1e-15 "KL(q ‖ standard)" (values (KullbackLeibler.Between(q, std3))) (values (KullbackLeibler.Between(q, Normal(torch.zeros(3L, dtype = f64), torch.ones(3L, dtype = f64)))))
            Expect.isTrue (std.Expand([| 5L; 2L; 3L |]) :?> Normal).IsStandard "Expand keeps the flag"

        testCase "Normal.Standard as a plated prior gives the trace of Normal(zeros, ones); bad arguments are named" <| fun () ->
            let model (prior: Distribution) =
                Model.Plate("data", 4L, Model.Bind(Model.Sample("z", prior.ToEvent(1)), fun (z: Tensor) -> Model.Cost("c", z.square().sum(-1L))))
            let run prior =
                let r = Interpreter.Sample(model prior, RunOptions(Seed = 9UL))
                values (Surrogate.Build(r.Trace).Surrogate), values (r.Trace.Sample("z").LogProb)
            let a, la = run (Normal.Standard([| 4L; 2L |], f64))
            let b, lb = run (Normal(torch.zeros([| 4L; 2L |], dtype = f64), torch.ones([| 4L; 2L |], dtype = f64)))
            expectClose 1e-12 "surrogate" a b
            expectClose 1e-12 "log p(z)" la lb
            let e = Expect.throwsC (fun () -> Normal.Standard([| -1L |]) |> ignore) id
            Expect.stringContains e.Message "batch shape" "names the batch shape"
            let d = Expect.throwsC (fun () -> Normal.Standard([| 2L |], torch.ScalarType.Int64) |> ignore) id
            Expect.stringContains d.Message "floating point" "names the dtype"

        testCase "the shared constants behind Normal.Standard, Categorical.Uniform and Bernoulli survive the dispose scope that first made them" <| fun () ->
            let bf = torch.ScalarType.BFloat16   // a dtype no other test uses, so its constants are made in this scope
            do
                use scope = torch.NewDisposeScope()
                Normal.Standard([| 2L |], bf).LogProb(torch.zeros(2L, dtype = bf)) |> ignore
                Categorical.Uniform(3L, [| 2L |], bf).LogProb(torch.zeros(2L, dtype = torch.ScalarType.Int64)) |> ignore
                Bernoulli.FromLogits(torch.zeros(2L, dtype = bf)).LogProb(torch.ones(2L, dtype = bf)) |> ignore
            use scope = torch.NewDisposeScope()
            let std = Normal.Standard([| 2L |], bf)
            Expect.floatClose Accuracy.low (std.Loc.sum().to_type(f64).item<float> ()) 0.0 "loc still 0"
            Expect.floatClose Accuracy.low (std.Scale.sum().to_type(f64).item<float> ()) 2.0 "scale still 1"
            let lp = Categorical.Uniform(3L, [| 2L |], bf).LogProb(torch.zeros(2L, dtype = torch.ScalarType.Int64))
            let bfAccuracy = { absolute = 0.02; relative = 0.01 }   // bfloat16 keeps about three significant digits
            Expect.floatClose bfAccuracy (lp.sum().to_type(f64).item<float> ()) (-2.0 * log 3.0) "uniform log-probability"
            let b = Bernoulli.FromLogits(torch.zeros(2L, dtype = bf)).LogProb(torch.ones(2L, dtype = bf))
            Expect.floatClose bfAccuracy (b.sum().to_type(f64).item<float> ()) (2.0 * log 0.5) "Bernoulli log-probability"

        testCase "review: Bernoulli from logits scores bool and uint8 values as their floats (−1 in their own dtype is true or 255)" <| fun () ->
            let l = torch.tensor([| -2.0; 0.0; 3.5; 1.0 |], dtype = f64)
            let x = torch.tensor([| 1.0; 0.0; 0.0; 1.0 |], dtype = f64)
            let expected = values (Bernoulli.FromLogits(l).LogProb x)
            for dtype in [ torch.ScalarType.Bool; torch.ScalarType.Byte; torch.ScalarType.Int32; torch.ScalarType.Float32 ] do
                expectClose 1e-6 (sprintf "values as %O" dtype) (values (Bernoulli.FromLogits(l).LogProb(x.to_type dtype))) expected
            // the same through a validated model: a cost of 2 softplus(3), not softplus(−3) twice
            let m = Model.Observe("x", Bernoulli.FromLogits(torch.tensor([| 3.0; 3.0 |], dtype = f64)), torch.tensor([| false; false |]))
            let r = Interpreter.Sample(m, RunOptions(Seed = 1UL, ValidateArguments = true))
            expectClose 1e-12 "cost of two zeros" (values (Surrogate.Build(r.Trace).Cost)) [| 2.0 * log (1.0 + exp 3.0) |]

        testCase "review: a Normal keeps handles of its own, so the caller may dispose the loc and scale it was given" <| fun () ->
            let d =
                use loc = torch.zeros(3L, dtype = f64)
                use scale = torch.ones(3L, dtype = f64)
                Normal(loc, scale)
            expectClose 1e-12 "log-density after the caller disposed its tensors" (values (d.LogProb(torch.zeros(3L, dtype = f64)))) (Array.create 3 (-0.5 * log (2.0 * Math.PI)))

        testCase "review: writing to a one-element Normal.Standard's Loc or Scale leaves the shared constants alone" <| fun () ->
            (Normal.Standard([||], f64).Loc).add_(torch.tensor(5.0, dtype = f64)) |> ignore
            (Normal.Standard([| 1L |], f64).Scale).mul_(torch.tensor(3.0, dtype = f64)) |> ignore
            let fresh = Normal.Standard([| 3L |], f64)
            expectClose 0.0 "loc" (values fresh.Loc) [| 0.0; 0.0; 0.0 |]
            expectClose 0.0 "scale" (values fresh.Scale) [| 1.0; 1.0; 1.0 |]
            expectClose 0.0 "KL(N(0, 1) ‖ standard)" (values (KullbackLeibler.Between(Normal(torch.zeros(3L, dtype = f64), torch.ones(3L, dtype = f64)), fresh))) [| 0.0; 0.0; 0.0 |]

        testCase "review: Normal.Standard scores integer and lower-precision values as Normal(zeros, ones) does; a bad shape names it" <| fun () ->
            let std = Normal.Standard([| 3L |], f64)
            let reference = Normal(torch.zeros(3L, dtype = f64), torch.ones(3L, dtype = f64))
            let ints = torch.tensor([| 1L; -2L; 3L |])
            let a = std.LogProb ints
            Expect.equal a.dtype f64 "an int64 value is scored in float64"
            expectClose 1e-12 "int64 values" (values a) (values (reference.LogProb ints))
            let single = torch.tensor([| 0.5f; -1.0f; 2.0f |])
            Expect.equal (std.LogProb single).dtype f64 "a float32 value into a float64 standard: float64, as the reference"
            let e = Expect.throwsC (fun () -> std.LogProb(torch.zeros(2L, dtype = f64)) |> ignore) id
            Expect.stringContains e.Message "Normal.Standard" "names the distribution"

        testCase "Bernoulli log-probability from logits: values and gradients of x log σ(l) + (1 − x) log σ(−l), float and int64 values" <| fun () ->
            let l = leaf [| -2.0; 0.0; 3.5; 1.0 |]
            let x = torch.tensor([| 1.0; 0.0; 0.0; 1.0 |], dtype = f64)
            let lp = Bernoulli.FromLogits(l).LogProb x
            lp.sum().backward ()
            let lv, xv = values l, values x
            let sigmoid u = 1.0 / (1.0 + exp (-u))
            expectClose 1e-12 "log p" (values lp) (Array.init 4 (fun i -> xv.[i] * log (sigmoid lv.[i]) + (1.0 - xv.[i]) * log (sigmoid -lv.[i])))
            expectClose 1e-12 "∂/∂l" (values l.grad) (Array.init 4 (fun i -> xv.[i] - sigmoid lv.[i]))
            let asInt = Bernoulli.FromLogits(l.detach()).LogProb(x.to_type(torch.ScalarType.Int64))
            expectClose 1e-12 "int64 values" (values asInt) (values lp)

        testCase "Categorical from logits draws with its log-probability alike for one and for two batch dimensions" <| fun () ->
            let logits = leaf (Array.init 24 (fun i -> float (i % 5) * 0.3 - float (i % 3)))
            let flat = Categorical.FromLogits(logits.reshape(6L, 4L))
            let nested = Categorical.FromLogits(logits.reshape(2L, 3L, 4L))
            let sampleSite (d: Distribution) seed =
                let r = Interpreter.Sample(Model.Sample("y", d, SiteEstimator.ScoreFunction), RunOptions(Seed = seed))
                let s = r.Trace.Sample "y"
                values s.Value, values s.LogProb, s.Value.shape
            let v1, l1, s1 = sampleSite flat 3UL
            let v2, l2, s2 = sampleSite nested 3UL
            Expect.sequenceEqual s1 [| 6L |] "one batch dimension"
            Expect.sequenceEqual s2 [| 2L; 3L |] "two batch dimensions"
            expectClose 0.0 "the same draws" v1 v2
            expectClose 1e-12 "the same log-probabilities" l1 l2
            expectClose 1e-12 "log-probabilities as LogProb gives them" l1 (values (flat.LogProb(torch.tensor(v1 |> Array.map int64))))

        testCase "Categorical.Uniform refuses bad arguments, naming them" <| fun () ->
            Expect.throwsT<ArgumentOutOfRangeException> (fun () -> Categorical.Uniform(0L, [||]) |> ignore) "no categories"
            let e = Expect.throwsC (fun () -> Categorical.Uniform(2L, [| -1L |]) |> ignore) id
            Expect.stringContains e.Message "batch shape" "names the batch shape"
            let d = Expect.throwsC (fun () -> Categorical.Uniform(2L, [||], torch.ScalarType.Int64) |> ignore) id
            Expect.stringContains d.Message "floating point" "names the dtype"
    ]
