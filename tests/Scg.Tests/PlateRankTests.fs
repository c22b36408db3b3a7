/// The surrogate on traces whose nodes sit at different plate depths without particles (issue: the vectorised
/// construction added cost-to-go parts of different rank with the stacking dimension misaligned). Deterministic:
/// each case checks the gradient of the default surrogate against the score terms written out by hand for the
/// values drawn, and against the per-site construction.
module Scg.Tests.PlateRankTests

open Expecto
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Estimators
open Scg.Tracing

let private model = ModelBuilder()
let private t (x: float) = torch.tensor(x, dtype = torch.ScalarType.Float64, requires_grad = true)
let private c (x: float) = torch.tensor(x, dtype = torch.ScalarType.Float64)

let private grads (s: torch.Tensor) (leaves: torch.Tensor list) = Stats.gradOf s leaves

[<Tests>]
let tests =
    testList "plate ranks" [
        test "global score sites credited with costs in a plate and in a nested plate (no particles)" {
            for seed in 1UL .. 8UL do
                let t1, t2 = t 0.3, t -0.2
                let m = model {
                    let! a = Model.Sample("a", Bernoulli.FromLogits(t1))
                    let! b = Model.Sample("b", Bernoulli.FromLogits(t2))
                    let! _ = Model.Plate("p", 3L, Model.Cost("c1", (a + 1.0) * 1.0))
                    let! _ = Model.Plate("p", 3L, Model.Plate("q", 2L, Model.Cost("c2", (b + 2.0) * 1.0)))
                    return () }
                let tr = Interpreter.Sample(m, RunOptions(Seed = seed)).Trace
                let a = tr.["a"] :?> SampleNode
                let b = tr.["b"] :?> SampleNode
                // By hand: both sites precede both costs, so each is credited with 3 (a + 1) + 6 (b + 2); the costs
                // carry no gradient. (The old vectorised path misaligned the two cost groups' ranks: about 2×.)
                let total = 3.0 * (a.Value.detach() + 1.0) + 6.0 * (b.Value.detach() + 2.0)
                let byHand = (a.LogProb + b.LogProb) * total
                let expected = grads byHand [ t1; t2 ]
                for vectorize in [ true; false ] do
                    let s = Surrogate.Build(tr, SurrogateOptions(Vectorize = vectorize)).Surrogate
                    let got = grads s [ t1; t2 ]
                    for i in 0 .. 1 do
                        Expect.floatClose Accuracy.veryHigh got.[i] expected.[i]
                            (sprintf "seed %d, vectorize %b, θ%d" seed vectorize (i + 1))
        }

        test "a global observation, then a plate holding score sites and an observation (no particles)" {
            for seed in 1UL .. 8UL do
                let w = t 0.4
                let m = model {
                    let! _ = Model.Observe("g", Normal(c 0.0, c 1.0), c 0.5)
                    return! Model.Plate("data", 5L, model {
                        let! u = Model.Sample("u", Bernoulli.FromLogits(w))
                        let! v = Model.Sample("v", Normal(u * 2.0, c 1.0), SiteEstimator.ScoreFunction)
                        let! _ = Model.Observe("x", Normal(v, c 1.0), c 1.5)
                        return () }) }
                let tr = Interpreter.Sample(m, RunOptions(Seed = seed)).Trace
                let u = tr.["u"] :?> SampleNode
                let v = tr.["v"] :?> SampleNode
                let x = tr.["x"] :?> ObserveNode
                // Element by element: u_i is credited with −log p(x_i) only (v_i has no parameter).
                let byHand = (u.LogProb * (x.LogProb.detach().neg())).sum() + (v.LogProb * (x.LogProb.detach().neg())).sum()
                let expected = grads byHand [ w ]
                for vectorize in [ true; false ] do
                    let s = Surrogate.Build(tr, SurrogateOptions(Vectorize = vectorize)).Surrogate
                    Expect.floatClose Accuracy.veryHigh (grads s [ w ]).[0] expected.[0] (sprintf "seed %d, vectorize %b" seed vectorize)
        }
    ]
