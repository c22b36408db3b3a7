/// IWAE with a data plate (Iwae.Build(dataPlate = …)): one bound per data point, summed, checked by hand against the
/// trace's values; K = 1 is the ELBO; it approaches Σ_b log p(x_b) where the whole-run bound stays far below; plain
/// and VIMCO gradients are unbiased for the exact per-point gradient (all K-tuples enumerated per point); bad plates
/// are refused by name. False-alarm rate: tests/README.md.
module Scg.Tests.IwaePerPointTests

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
let private f64s (xs: float[]) = torch.tensor(xs, dtype = torch.ScalarType.Float64)
let private f64 (x: float) = torch.tensor(x, dtype = torch.ScalarType.Float64)
let private leaves (xs: float[]) = torch.tensor(xs, dtype = torch.ScalarType.Float64, requires_grad = true)
let private data = [| 0.8; -0.3; 1.5 |]

/// z_b ~ N(0, 1), x_b | z_b ~ N(z_b, 0.5²) for three points; guide q(z_b) = N(m_b, e^{s_b}).
let private normalPairWith (stl: bool) (m: torch.Tensor) (s: torch.Tensor) =
    Guided.Pair(
        Model.Plate("data", 3L, Model.Sample("z", Normal(m, s.exp()))),
        Model.Plate("data", 3L, model {
            let! z = Model.Sample("z", Normal(f64 0.0, f64 1.0))
            let! _ = Model.Observe("x", Normal(z, f64 0.5), f64s data)
            return () }), stickTheLanding = stl)

let private normalPair = normalPairWith false

let private logNormal (x: torch.Tensor) (mu: torch.Tensor) (sd: torch.Tensor) =
    -(sd.log()) - 0.5 * Math.Log(2.0 * Math.PI) - ((x - mu) / sd).square() * 0.5

[<Tests>]
let tests =
    testList "IWAE per data point" [
        test "the bound is Σ_b log (1/K) Σ_k w_kb, computed by hand from the trace; K = 1 is the ELBO" {
            let m, s = leaves [| 0.1; -0.2; 0.9 |], leaves [| -0.3; -0.1; -0.5 |]
            let pair = normalPair m s
            let trace = Interpreter.Sample(pair, RunOptions(Seed = 5UL, Particles = 7)).Trace
            let z = trace.Sample("z").Value.detach()                                        // [7, 3]
            let logw = logNormal z (f64 0.0) (f64 1.0) + logNormal (f64s data) z (f64 0.5) - logNormal z (m.detach()) (s.detach().exp())
            let byHand = (logw.logsumexp(0L) - Math.Log 7.0).sum().item<float>()
            let o = Iwae.Build(trace, dataPlate = "data")
            Expect.floatClose Accuracy.veryHigh (o.Bound.item<float>()) byHand "the per-point bound"
            Expect.sequenceEqual o.LogWeights.shape [| 7L; 3L |] "log weights per particle and point"
            let one = Interpreter.Sample(pair, RunOptions(Seed = 6UL, Particles = 1)).Trace
            Expect.floatClose Accuracy.veryHigh (Iwae.Build(one, dataPlate = "data").Bound.item<float>()) (-(Surrogate.Build(one).Cost.item<float>())) "K = 1: the ELBO"
        }

        test "per point it approaches Σ_b log p(x_b); one weight for the whole batch stays far below" {
            let m, s = leaves [| 0.1; -0.2; 0.9 |], leaves [| -0.3; -0.1; -0.5 |]
            let pair = normalPair m s
            let logpx = data |> Array.sumBy (fun x -> -0.5 * Math.Log(2.0 * Math.PI * 1.25) - x * x / (2.0 * 1.25))
            use gen = new torch.Generator(9UL, torch.CPU)
            let mean (plate: string) k =
                Array.init 100 (fun _ ->
                    use scope = torch.NewDisposeScope()
                    Iwae.Build(Interpreter.Sample(pair, RunOptions(Generator = gen, Particles = k)).Trace, dataPlate = plate).Bound.item<float>())
                |> Array.average
            let perPoint = mean "data" 300
            Expect.isLessThan (logpx - perPoint) 0.03 (sprintf "per point, K = 300: %.4f vs Σ log p(x_b) = %.4f" perPoint logpx)
            Expect.isTrue (perPoint <= logpx + 0.01) "a lower bound"
            let perPoint4, whole4 = mean "data" 4, mean null 4
            Expect.isLessThan whole4 (perPoint4 - 0.05) (sprintf "K = 4: the whole-run bound %.4f is looser than the per-point %.4f" whole4 perPoint4)
        }

        test "a score-function guide: plain and VIMCO per-point gradients are unbiased (K = 2, two points, exact by enumeration)" {
            let phi, theta = leaves [| 0.2; -0.6 |], f64 -0.5 |> fun t -> t.requires_grad_(true)
            let xs = [| 0.7; -1.1 |]
            let pair =
                Guided.Pair(
                    Model.Plate("data", 2L, Model.Sample("y", Bernoulli.FromLogits(phi))),
                    Model.Plate("data", 2L, model {
                        let! y = Model.Sample("y", Bernoulli.FromLogits(theta))
                        let! _ = Model.Observe("x", Normal(y * 2.0 - 1.0, f64 1.0), f64s xs)
                        return () }))
            // exact: Σ_b Σ over the 4 pairs (y1, y2) of q_b(y1) q_b(y2) · log (1/2) Σ_k w_b(y_k)
            let logw (b: int) (y: float) =
                let lq = if y = 1.0 then torch.nn.functional.logsigmoid(phi.[int64 b]) else torch.nn.functional.logsigmoid(-phi.[int64 b])
                let lp = if y = 1.0 then torch.nn.functional.logsigmoid(theta) else torch.nn.functional.logsigmoid(-theta)
                lp - 0.5 * Math.Log(2.0 * Math.PI) - 0.5 * (xs.[b] - (2.0 * y - 1.0)) ** 2.0 - lq, lq
            let mutable exact = f64 0.0
            for b in 0 .. 1 do
                for code in 0 .. 3 do
                    let parts = [ for k in 0 .. 1 -> logw b (float ((code >>> k) &&& 1)) ]
                    let logq = parts |> List.map snd |> List.reduce (+)
                    let l = torch.stack(parts |> List.map fst |> Array.ofList).logsumexp(0L) - Math.Log 2.0
                    exact <- exact + logq.detach().exp() * l + (logq.exp() - logq.exp().detach()) * l.detach()
            let ls = [ phi; theta ]
            let gstar = Stats.gradOf (-exact) ls
            for vimco in [ false; true ] do
                use gen = new torch.Generator(12UL, torch.CPU)
                let samples = Stats.gradients 3000 ls (fun _ -> Iwae.Build(Interpreter.Sample(pair, RunOptions(Generator = gen, Particles = 2)).Trace, vimco, dataPlate = "data").Surrogate)
                let z = zOf samples gstar
                Expect.isLessThan z Stats.zBound (sprintf "vimco = %b: max |z| = %.2f, mean %s vs %s" vimco z (Stats.fmt (Stats.estimate samples).Mean) (Stats.fmt gstar))
            // the check can fail: the particles' mean ELBO estimates another objective's gradient
            use gen = new torch.Generator(12UL, torch.CPU)
            let elbo = Stats.gradients 3000 ls (fun _ -> Surrogate.Build(Interpreter.Sample(pair, RunOptions(Generator = gen, Particles = 2)).Trace).Surrogate)
            let ze = zOf elbo gstar
            Expect.isGreaterThan ze Stats.zBound (sprintf "the same check rejects the ELBO's gradient (|z| = %.2f)" ze)
        }

        test "DReG per point: every guide gradient is exactly zero at the posterior, and not without DReG" {
            let m = leaves (data |> Array.map (fun x -> 0.8 * x))
            let s = leaves (Array.create 3 (0.5 * Math.Log 0.2))
            let trace () = Interpreter.Sample(normalPairWith true m s, RunOptions(Seed = 4UL, Particles = 5)).Trace
            let g = Derivatives.Gradient(Iwae.Build(trace (), dreg = true, dataPlate = "data").Surrogate, [| m; s |])
            Expect.isLessThan (g.abs().max().item<float>()) 1e-10 "DReG: zero"
            let plain = Interpreter.Sample(normalPair m s, RunOptions(Seed = 4UL, Particles = 5)).Trace
            let gp = Derivatives.Gradient(Iwae.Build(plain, dataPlate = "data").Surrogate, [| m; s |])
            Expect.isGreaterThan (gp.abs().max().item<float>()) 1e-3 "plain IWAE: not zero"
        }

        test "with nothing that requires a gradient, backward() of the IWAE and wake-sleep losses is a no-op" {
            let pair = normalPair (f64s [| 0.1; -0.2; 0.9 |]) (f64s [| -0.3; -0.1; -0.5 |])
            let trace = Interpreter.Sample(pair, RunOptions(Seed = 2UL, Particles = 3)).Trace
            Iwae.Build(trace).Loss.backward()
            Iwae.Build(trace, dataPlate = "data").Loss.backward()
            WakeSleep.Build(trace, WakeSleepPhases.Wake).Loss.backward()
        }

        test "a missing plate, the particle plate, a latent outside the plate, or a subsampled plate is refused by name" {
            let m, s = leaves [| 0.1; -0.2; 0.9 |], leaves [| -0.3; -0.1; -0.5 |]
            let trace = Interpreter.Sample(normalPair m s, RunOptions(Seed = 1UL, Particles = 2)).Trace
            ErrorTests.throwsMentioning [ "no plate 'batch'"; "'data'" ] (fun () -> Iwae.Build(trace, dataPlate = "batch") |> ignore)
            ErrorTests.throwsMentioning [ "particle plate" ] (fun () -> Iwae.Build(trace, dataPlate = "particles") |> ignore)
            let withGlobal =
                Guided.Pair(
                    model { let! g = Model.Sample("g", Normal(f64 0.0, f64 1.0)) in return! Model.Plate("data", 3L, Model.Sample("z", Normal(g, f64 1.0))) },
                    model {
                        let! g = Model.Sample("g", Normal(f64 0.0, f64 1.0))
                        return! Model.Plate("data", 3L, model {
                            let! z = Model.Sample("z", Normal(g, f64 1.0))
                            let! _ = Model.Observe("x", Normal(z, f64 0.5), f64s data)
                            return () }) })
            let t2 = Interpreter.Sample(withGlobal, RunOptions(Seed = 1UL, Particles = 2)).Trace
            ErrorTests.throwsMentioning [ "'g"; "outside plate 'data'" ] (fun () -> Iwae.Build(t2, dataPlate = "data") |> ignore)
            let sub =
                Guided.Pair(
                    Model.Subsample("data", 6L, 3L, fun _ -> Model.Sample("z", Normal(m, s.exp()))),
                    Model.Subsample("data", 6L, 3L, fun _ -> model {
                        let! z = Model.Sample("z", Normal(f64 0.0, f64 1.0))
                        let! _ = Model.Observe("x", Normal(z, f64 0.5), f64s data)
                        return () }))
            let t3 = Interpreter.Sample(sub, RunOptions(Seed = 1UL, Particles = 2)).Trace
            ErrorTests.throwsMentioning [ "subsampled" ] (fun () -> Iwae.Build(t3, dataPlate = "data") |> ignore)
        }
    ]
