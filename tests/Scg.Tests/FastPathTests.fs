/// The cheaper log-densities (Normal built in place, Categorical.Uniform's constant) against their plain
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
            let draws = u.Sample(torch.Generator(5UL), 2000L)
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

        testCase "Categorical.Uniform refuses bad arguments, naming them" <| fun () ->
            Expect.throwsT<ArgumentOutOfRangeException> (fun () -> Categorical.Uniform(0L, [||]) |> ignore) "no categories"
            let e = Expect.throwsC (fun () -> Categorical.Uniform(2L, [| -1L |]) |> ignore) id
            Expect.stringContains e.Message "batch shape" "names the batch shape"
            let d = Expect.throwsC (fun () -> Categorical.Uniform(2L, [||], torch.ScalarType.Int64) |> ignore) id
            Expect.stringContains d.Message "floating point" "names the dtype"
    ]
