/// Deterministic tests of the credit rules (core-semantics.md): which costs enter which site's cost-to-go.
module Scg.Tests.CreditTests

open Expecto
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Estimators
open Scg.Tracing
open Scg.FSharp

type Tensor = TorchSharp.torch.Tensor

let t (x: float) = torch.tensor(x, dtype = torch.ScalarType.Float64)
let vec (xs: float[]) = torch.tensor(xs, dtype = torch.ScalarType.Float64)
let score name = Model.Sample(name, Normal(t 0.0, t 1.0), SiteEstimator.ScoreFunction)
let values (x: Tensor) = x.to_type(torch.ScalarType.Float64).flatten().data<float>().ToArray()
let run m = Interpreter.Sample(m, RunOptions(Seed = 1UL)).Trace
let q (trace: Trace) name = (CostToGo.Compute trace).[name] |> values

[<Tests>]
let tests =
    testList "credit assignment" [
        test "a cost recorded before a site is not in its cost-to-go" {
            let m = model {
                let! _ = Model.Cost("c0", t 1.0)
                let! _ = score "y"
                let! _ = Model.Cost("c1", t 2.0)
                let! _ = score "z"
                let! _ = Model.Cost("c2", t 4.0)
                return () }
            let tr = run m
            Expect.sequenceEqual (q tr "y") [| 6.0 |] "y is credited c1 + c2"
            Expect.sequenceEqual (q tr "z") [| 4.0 |] "z is credited c2 only"
        }

        test "observations count as costs of -log p" {
            let m = model {
                let! _ = score "y"
                let! _ = Model.Observe("x", Normal(t 0.0, t 1.0), t 0.0)
                return () }
            let tr = run m
            let expected = 0.5 * log (2.0 * System.Math.PI)
            Expect.floatClose Accuracy.veryHigh (q tr "y").[0] expected "-log N(0; 0, 1)"
        }

        test "independent product: branches do not credit each other; what follows credits both" {
            let left = model { let! a = score "a" in let! _ = Model.Cost("ca", t 1.0) in return a }
            let right = model { let! b = score "b" in let! _ = Model.Cost("cb", t 10.0) in return b }
            let m = model {
                let! _ = score "s0"
                let! _ = Model.Zip(left, right)
                let! _ = Model.Cost("cc", t 100.0)
                return () }
            let tr = run m
            Expect.sequenceEqual (q tr "a") [| 101.0 |] "a: its branch and the continuation"
            Expect.sequenceEqual (q tr "b") [| 110.0 |] "b: its branch and the continuation"
            Expect.sequenceEqual (q tr "s0") [| 111.0 |] "s0 precedes the product: everything"
            let a = tr.["a"] :?> SampleNode
            Expect.isFalse (tr.IsDownstream(a, tr.["cb"])) "no edge a -> cb"
            Expect.isTrue (tr.IsDownstream(a, tr.["cc"])) "edge a -> cc"
            let edges = tr.Edges |> Seq.map (fun struct (f, x) -> f.Name, x.Name) |> Set.ofSeq
            Expect.isFalse (edges.Contains("b", "ca")) "no edge b -> ca"
            Expect.isTrue (edges.Contains("s0", "b")) "edge s0 -> b"
        }

        test "nested products keep separating their own branches" {
            let leaf name c = model { let! _ = score name in let! _ = Model.Cost("c" + name, t c) in return () }
            let inner = Model.Zip(leaf "p" 1.0, leaf "q" 2.0)
            let m = Model.Zip(inner, leaf "r" 4.0)
            let tr = run m
            Expect.sequenceEqual (q tr "p") [| 1.0 |] "p"
            Expect.sequenceEqual (q tr "q") [| 2.0 |] "q"
            Expect.sequenceEqual (q tr "r") [| 4.0 |] "r"
        }

        test "plates: element i of a site is credited element i of the plate's costs, plus all later costs outside" {
            let m = model {
                let! _ = score "g"
                let! _ =
                    Model.Plate("data", 3L, model {
                        let! y = score "y"
                        let! _ = Model.Cost("cin", vec [| 1.0; 2.0; 3.0 |])
                        return y })
                let! _ = Model.Cost("cout", t 10.0)
                return () }
            let tr = run m
            Expect.sequenceEqual ((tr.["y"] :?> SampleNode).Value.shape) [| 3L |] "y is expanded to the plate"
            Expect.sequenceEqual (q tr "y") [| 11.0; 12.0; 13.0 |] "per element, plus the cost outside"
            Expect.sequenceEqual (q tr "g") [| 16.0 |] "a site outside the plate gets the sum over elements"
        }

        test "a scalar cost inside a plate counts once per element" {
            let m = model {
                let! _ = score "g"
                let! _ = Model.Plate("data", 4L, Model.Cost("c", t 1.5))
                return () }
            let tr = run m
            Expect.sequenceEqual (q tr "g") [| 6.0 |] "4 elements x 1.5"
            let s = Surrogate.Build(tr)
            Expect.floatClose Accuracy.veryHigh (s.Cost.item<float>()) 6.0 "the reported cost counts it 4 times too"
        }

        test "nested plates: outer-plate sites get the inner plate summed" {
            let costs = vec [| 1.0; 2.0; 3.0; 4.0; 5.0; 6.0 |] |> fun c -> c.reshape(3L, 2L)
            let m =
                Model.Plate("i", 2L, model {
                    let! _ = score "u"
                    let! _ = Model.Plate("j", 3L, model {
                        let! _ = score "v"
                        let! _ = Model.Cost("c", costs)
                        return () })
                    return () })
            let tr = run m
            Expect.sequenceEqual ((tr.["v"] :?> SampleNode).Value.shape) [| 3L; 2L |] "v has dims j (-2) and i (-1)"
            Expect.sequenceEqual (q tr "u") [| 9.0; 12.0 |] "u[i] = sum over j of c[j, i]"
            Expect.sequenceEqual (q tr "v") [| 1.0; 2.0; 3.0; 4.0; 5.0; 6.0 |] "v element by element"
        }

        test "sequential plates: a site in one plate is credited the sum over another plate's elements" {
            let m = model {
                let! _ = Model.Plate("a", 2L, score "x")
                let! _ = Model.Plate("b", 3L, Model.Cost("c", vec [| 1.0; 2.0; 4.0 |]))
                return () }
            let tr = run m
            Expect.sequenceEqual (q tr "x") [| 7.0; 7.0 |] "both elements of x get the whole of b's cost"
        }

        test "the surrogate is the sum of costs plus log p times the detached cost-to-go" {
            let mu = torch.tensor(0.2, dtype = torch.ScalarType.Float64, requires_grad = true)
            let m = model {
                let! _ = Model.Cost("c0", mu * 3.0)
                let! y = Model.Sample("y", Normal(mu, t 1.0), SiteEstimator.ScoreFunction)
                let! _ = Model.Cost("c1", y * 2.0)
                return () }
            let tr = run m
            let s = Surrogate.Build(tr)
            let y = (tr.["y"] :?> SampleNode).Value.item<float>()
            let lp = -0.5 * (y - 0.2) ** 2.0 - 0.5 * log (2.0 * System.Math.PI)
            Expect.floatClose Accuracy.veryHigh (s.Surrogate.item<float>()) (0.6 + 2.0 * y + lp * 2.0 * y) "value"
            Expect.floatClose Accuracy.veryHigh (s.Cost.item<float>()) (0.6 + 2.0 * y) "reported cost"
            let g = Stats.gradOf s.Surrogate [ mu ]
            Expect.floatClose Accuracy.veryHigh g.[0] (3.0 + (y - 0.2) * 2.0 * y) "d/dmu: direct cost + score term"
        }
    
        test "the worked example of core-semantics.md: y's credit is l_y + l_z + l_x per data point" {
            // data plate of size B; y ~ Categorical (score function), then l_y, then z ~ Normal (pathwise), l_z, l_x
            let B = 4L
            let x = vec [| 0.1; -0.3; 0.7; 1.2 |]
            let m =
                Model.Plate("data", B, model {
                    let! y = Model.Sample("y", Categorical.FromLogits(torch.zeros(B, 3L, dtype = torch.ScalarType.Float64)))
                    let! ly = Model.Cost("l_y", y.to_type(torch.ScalarType.Float64) * 0.5)
                    let! z = Model.Sample("z", Normal(x, t 1.0))
                    let! lz = Model.Cost("l_z", z.square())
                    let! lx = Model.Cost("l_x", (x - z).abs())
                    return ly + lz + lx })
            let run = Interpreter.Sample(m, RunOptions(Seed = 8UL))
            let tr = run.Trace
            Expect.isTrue (tr.["y"] :?> SampleNode).IsScoreFunction "y is scored"
            Expect.isFalse (tr.["z"] :?> SampleNode).IsScoreFunction "z is pathwise"
            Expect.sequenceEqual (q tr "y") (values run.Value) "Q_y[b] = (l_y + l_z + l_x)[b]"
            let scored = CostToGo.Compute(tr, fun s -> s.IsScoreFunction)
            Expect.isFalse (scored.ContainsKey "z") "only requested sites"
        }
    
        test "costs of mixed dtypes are credited alike by both surrogate paths" {
            let m = model {
                let! _ = score "y"
                let! _ = Model.Cost("c32", torch.tensor(1.5f))
                let! _ = Model.Cost("c64", t 2.0)
                return () }
            let tr = run m
            Expect.sequenceEqual (q tr "y") [| 3.5 |] "cost-to-go"
            let fast = Surrogate.Build(tr).Surrogate.item<float>()
            let slow = Surrogate.Build(tr, SurrogateOptions(Vectorize = false)).Surrogate.item<float>()
            Expect.floatClose Accuracy.high fast slow "same surrogate"
        }
    ]

