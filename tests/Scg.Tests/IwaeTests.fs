/// IWAE and VIMCO on guided runs: K = 1 gives the ELBO; the bound rises toward log p(x) with K (closed-form
/// log p(x)); the gradients, plain and VIMCO, pass the z-test against the exact IWAE gradient (all K-tuples of a
/// discrete latent enumerated). False-alarm rate: tests/README.md.
module Scg.Tests.IwaeTests

open System
open Expecto
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Estimators
open Scg.Objectives
open Scg.Verification.FlatGraph
open Scg.Verification.FlatOracle
open Scg.Tests.RandomScgTests

let private model = ModelBuilder()
let private f64 (x: float) = torch.tensor(x, dtype = torch.ScalarType.Float64)
let private leaf (x: float) = torch.tensor(x, dtype = torch.ScalarType.Float64, requires_grad = true)

[<Tests>]
let tests =
    testList "IWAE" [
        test "Normal–Normal: K = 1 is the ELBO; the bound rises toward log p(x) as K grows" {
            let m, s = leaf 0.1, leaf -0.2
            let pair = Guided.Pair(Model.Sample("z", Normal(m, s.exp())), model {
                let! z = Model.Sample("z", Normal(f64 0.0, f64 1.0))
                let! _ = Model.Observe("x", Normal(z, f64 0.5), f64 0.8)
                return () })
            let one = Interpreter.Sample(pair, RunOptions(Seed = 3UL, Particles = 1)).Trace
            Expect.floatClose Accuracy.veryHigh (Iwae.Build(one).Bound.item<float>()) (-(Surrogate.Build(one).Cost.item<float>())) "K = 1: the ELBO"
            let logpx = -0.5 * Math.Log(2.0 * Math.PI * 1.25) - 0.8 * 0.8 / (2.0 * 1.25)
            use gen = new torch.Generator(4UL, torch.CPU)
            let meanBound k =
                Array.init 200 (fun _ ->
                    use scope = torch.NewDisposeScope()
                    Iwae.Build(Interpreter.Sample(pair, RunOptions(Generator = gen, Particles = k)).Trace).Bound.item<float>()) |> Array.average
            let b1, b10, b200 = meanBound 1, meanBound 10, meanBound 200
            Expect.isTrue (b1 < b10 && b10 < b200 && b200 <= logpx + 0.01) (sprintf "bounds %.4f < %.4f < %.4f ≤ log p(x) = %.4f" b1 b10 b200 logpx)
            Expect.isLessThan (logpx - b200) 0.02 (sprintf "K = 200 is close to log p(x): %.4f vs %.4f" b200 logpx)
        }

        test "a score-function guide: plain and VIMCO gradients are unbiased for the exact IWAE gradient (K = 3)" {
            let phi, theta = leaf 0.2, leaf -0.5
            let leaves = [ phi; theta ]
            let pair = Guided.Pair(Model.Sample("y", Bernoulli.FromLogits(phi)), model {
                let! y = Model.Sample("y", Bernoulli.FromLogits(theta))
                let! _ = Model.Observe("x", Normal(y * 2.0 - 1.0, f64 1.0), f64 0.7)
                return () })
            // exact: Σ over the 8 triples (y1, y2, y3) of Π q(y_k) · log (1/3) Σ_k w(y_k)
            let logw (y: float) =
                let lq = if y = 1.0 then torch.nn.functional.logsigmoid(phi) else torch.nn.functional.logsigmoid(-phi)
                let lp = if y = 1.0 then torch.nn.functional.logsigmoid(theta) else torch.nn.functional.logsigmoid(-theta)
                lp - 0.5 * Math.Log(2.0 * Math.PI) - 0.5 * (0.7 - (2.0 * y - 1.0)) ** 2.0 - lq, lq
            let mutable exact = f64 0.0
            for code in 0 .. 7 do
                let ys = [ for k in 0 .. 2 -> float ((code >>> k) &&& 1) ]
                let parts = ys |> List.map logw
                let logq = parts |> List.map snd |> List.reduce (+)
                let l = torch.stack(parts |> List.map fst |> Array.ofList).logsumexp(0L) - Math.Log 3.0
                exact <- exact + logq.detach().exp() * l + (logq.exp() - logq.exp().detach()) * l.detach()
            let gstar = Stats.gradOf (-exact) leaves
            for vimco in [ false; true ] do
                use gen = new torch.Generator(8UL, torch.CPU)
                let samples = Stats.gradients 3000 leaves (fun _ -> Iwae.Build(Interpreter.Sample(pair, RunOptions(Generator = gen, Particles = 3)).Trace, vimco).Surrogate)
                let z = zOf samples gstar
                Expect.isLessThan z Stats.zBound (sprintf "vimco = %b: max |z| = %.2f, mean %s vs %s" vimco z (Stats.fmt (Stats.estimate samples).Mean) (Stats.fmt gstar))
        }

        test "no particles, or VIMCO with K = 1, is refused" {
            let pair = Guided.Pair(Model.Sample("z", Normal(f64 0.0, f64 1.0)), Model.Sample("z", Normal(f64 0.0, f64 1.0)))
            ErrorTests.throwsMentioning [ "Particles" ] (fun () -> Iwae.Build(Interpreter.Sample(pair).Trace) |> ignore)
            ErrorTests.throwsMentioning [ "VIMCO"; "K = 1" ] (fun () -> Iwae.Build(Interpreter.Sample(pair, RunOptions(Particles = 1)).Trace, true) |> ignore)
        }

        test "a closed-form KL is refused for K > 1 (no importance weight), and is the ELBO at K = 1" {
            // −(KL + NLL) per particle is not log p − log q: with K = 2 its log-mean-exp gave a biased bound and gradient
            let m, s = leaf 0.3, leaf -0.4
            let generative = model {
                let! z = Model.Sample("z", Normal(f64 0.2, f64 1.0))
                let! _ = Model.Observe("x", Normal(z, f64 0.7), f64 1.1)
                return () }
            let pair = Guided.Pair(Model.Sample("z", Normal(m, s.exp())), generative, analyticKl = true)
            let two = Interpreter.Sample(pair, RunOptions(Seed = 5UL, Particles = 2)).Trace
            ErrorTests.throwsMentioning [ "Iwae.Build"; "'z'"; "analyticKl" ] (fun () -> Iwae.Build(two) |> ignore)
            ErrorTests.throwsMentioning [ "Iwae.Build"; "analyticKl" ] (fun () -> Iwae.Build(two, true) |> ignore)
            let one = Interpreter.Sample(pair, RunOptions(Seed = 5UL, Particles = 1)).Trace
            Expect.floatClose Accuracy.veryHigh (Iwae.Build(one).Bound.item<float>()) (-(Surrogate.Build(one).Cost.item<float>())) "K = 1: the ELBO with its KL"
            let filter = AesmcOptions(2, Run = RunOptions(Seed = 5UL))
            ErrorTests.throwsMentioning [ "Aesmc.Run (step 0)"; "analyticKl" ] (fun () ->
                Aesmc.Run(Model.Map(pair, fun _ -> torch.zeros(2L, dtype = torch.ScalarType.Float64)), (fun _ st -> Model.Return st), 1, filter) |> ignore)
        }
    ]
