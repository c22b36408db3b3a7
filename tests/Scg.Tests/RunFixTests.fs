/// Fixes to the interpreter, parameter store, trace lookups and training loop (issue 7, part 3).
module Scg.Tests.RunFixTests

open System
open System.Collections.Generic
open Expecto
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Estimators
open Scg.Tracing
open Scg.Linq
open Scg.FSharp

let t (x: float) = torch.tensor(x, dtype = torch.ScalarType.Float64)
let f64 (xs: float list) = torch.tensor(Array.ofList xs, dtype = torch.ScalarType.Float64)

let private throwsMentioning = ErrorTests.throwsMentioning

let costOf (trace: Trace) = Surrogate.Build(trace).Cost.item<float>()

/// w is a parameter; the cost depends on fresh noise every step.
let noisyModel =
    model {
        let! w = Model.Param("w", fun () -> t 0.5)
        let! z = Model.Sample("z", Normal(w, t 1.0))
        let! _ = Model.Cost("c", z.square())
        return z }

let sgd (lr: float) = Func<IEnumerable<Modules.Parameter>, torch.optim.Optimizer>(fun ps -> torch.optim.SGD(ps, lr) :> torch.optim.Optimizer)

[<Tests>]
let tests =
    testList "run fixes" [
        test "a seed seeds one generator for the whole training loop" {
            let train () =
                let store = ParamStore()
                Interpreter.Sample(noisyModel, RunOptions(Params = store)) |> ignore
                let opt = torch.optim.SGD(store.Parameters(), 0.0)
                Training.Train((fun _ -> noisyModel), opt, 5, RunOptions(Params = store, Seed = 1UL)) |> List.ofSeq
            let first = train ()
            Expect.equal (List.length (List.distinct first)) 5 (sprintf "five different costs with lr 0 (got %A)" first)
            Expect.equal (train ()) first "the same seed gives the same cost sequence"
        }

        test "ParamStore.Initialize creates a model's parameters as trainable leaves, even under no_grad" {
            let store = ParamStore()
            Expect.isEmpty (store.Parameters()) "nothing before"
            let initializeWithoutGrad () =
                use _ = torch.no_grad()
                store.Initialize(noisyModel, RunOptions(Seed = 3UL, Particles = 4)) |> ignore
            initializeWithoutGrad ()
            let w = store.["w"]
            Expect.isTrue w.requires_grad "requires grad"
            Expect.isTrue w.is_leaf "a leaf"
            Expect.equal (w.item<float>()) 0.5 "its initial value"
            Expect.equal (Seq.length (store.Parameters())) 1 "one parameter"
            throwsMentioning [ "Params" ] (fun () -> store.Initialize(noisyModel, RunOptions(Params = ParamStore())) |> ignore)
        }

        test "Training.Train with an optimizer factory initialises the parameters first and trains them" {
            let store = ParamStore()
            let m = model {
                let! mu = Model.Param("mu", fun () -> t 2.0)
                let! z = Model.Sample("z", Normal(mu, t 0.1))
                let! _ = Model.Cost("c", (z + 1.0).square())
                return () }
            let costs = Training.Train((fun _ -> m), store, sgd 0.1, 100, RunOptions(Seed = 2UL))
            Expect.equal costs.Count 100 "one cost per step"
            let mu = store.["mu"].item<float>()
            Expect.isLessThan (abs (mu + 1.0)) 0.1 (sprintf "mu moved from 2 to -1 (got %.3f)" mu)
            throwsMentioning [ "Params" ] (fun () ->
                Training.Train((fun _ -> m), store, sgd 0.1, 1, RunOptions(Params = ParamStore())) |> ignore)
        }

        test "Training.Train refuses a model in which nothing has a gradient, naming the step" {
            // The parameter is created without requires_grad outside the model: nothing would train.
            let frozen = t 2.0
            let m = model {
                let! z = Model.Sample("z", Normal(frozen, t 0.1))
                let! _ = Model.Cost("c", (z + 1.0).square())
                return () }
            let opt = torch.optim.SGD([| torch.nn.Parameter(t 0.0) |], 0.1)
            throwsMentioning [ "step 0"; "requires_grad"; "Model.Param" ] (fun () -> Training.Train((fun _ -> m), opt, 3) |> ignore)
        }

        test "replaying a K-particle trace with Particles = K reproduces its cost" {
            let m = Model.Plate("data", 3L, model {
                let! z = Model.Sample("z", Normal(t 0.0, t 1.0))
                let! _ = Model.Cost("c", z.square())
                return z })
            let first = Interpreter.Sample(m, RunOptions(Seed = 5UL, Particles = 4))
            let replayed = Interpreter.Replay(m, first.Trace, RunOptions(Particles = 4))
            Expect.sequenceEqual (Seq.head replayed.Trace.Costs).Value.shape [| 4L; 3L |] "cost keeps [particles, data]"
            Expect.floatClose Accuracy.veryHigh (costOf replayed.Trace) (costOf first.Trace) "same cost"
            // values given by name measure the nesting on fresh draws, not on the replayed values
            let values = Dictionary<string, torch.Tensor>()
            values.["z"] <- (first.Trace.["z"] :?> SampleNode).Value
            let byName = Interpreter.Replay(m, values, RunOptions(Particles = 4))
            Expect.floatClose Accuracy.veryHigh (costOf byName.Trace) (costOf first.Trace) "same cost, values by name"
            // the trace overload refuses another K outright; values given by name are checked site by site
            throwsMentioning [ "Particles = 4"; "Particles = 0" ] (fun () -> Interpreter.Replay(m, first.Trace) |> ignore)
            throwsMentioning [ "Particles = 0"; "Particles = 8" ] (fun () ->
                let once = Interpreter.Sample(m, RunOptions(Seed = 5UL))
                Interpreter.Replay(m, once.Trace, RunOptions(Particles = 8)) |> ignore)
            throwsMentioning [ "'z'"; "4, 3"; "Particles" ] (fun () -> Interpreter.Replay(m, values) |> ignore)
        }

        test "a replayed reparameterised value keeps its graph; a replayed site adds no score term" {
            let mu = torch.tensor(0.7, dtype = torch.ScalarType.Float64, requires_grad = true)
            let guide = Model.Sample("z", Normal(mu, t 1.0))
            let g = Interpreter.Sample(guide, RunOptions(Seed = 1UL))
            let theta = torch.tensor(0.3, dtype = torch.ScalarType.Float64, requires_grad = true)
            let m = model {
                let! z = Model.Sample("z", Normal(t 0.0, t 1.0))
                let! b = Model.Sample("b", Bernoulli.FromLogits(theta))
                let! _ = Model.Cost("c", z.square() + b * 3.0 + theta.square())
                return () }
            let values = Dictionary<string, torch.Tensor>()
            values.["z"] <- g.Value
            values.["b"] <- t 1.0
            let r = Interpreter.Replay(m, values)
            Surrogate.Build(r.Trace).Surrogate.backward()
            Expect.floatClose Accuracy.veryHigh (mu.grad.item<float>()) (2.0 * g.Value.item<float>()) "d/dmu z^2 = 2z through the replayed value"
            Expect.floatClose Accuracy.veryHigh (theta.grad.item<float>()) 0.6 "only d/dtheta theta^2: no score term for b"
        }

        test "observed and replayed values must fit the site's batch and event shape" {
            let loc = torch.zeros(3L, dtype = torch.ScalarType.Float64)
            let inPlate body = Model.Plate("data", 3L, body)
            let column = torch.zeros(3L, 1L, dtype = torch.ScalarType.Float64)
            throwsMentioning [ "'x'"; "[3, 1]"; "[3]" ] (fun () ->
                Interpreter.Sample(inPlate (Model.Observe("x", Normal(loc, t 1.0), column))) |> ignore)
            // a value with fewer leading dimensions broadcasts: the same observation for every element
            let r = Interpreter.Sample(inPlate (Model.Observe("x", Normal(loc, t 1.0), t 0.0)))
            Expect.floatClose Accuracy.veryHigh (costOf r.Trace) (3.0 * 0.5 * log (2.0 * Math.PI)) "three observations"
            let site = Model.Sample("z", Normal(loc, t 1.0))
            let replay (v: torch.Tensor) =
                let d = Dictionary<string, torch.Tensor>()
                d.["z"] <- v
                Interpreter.Replay(site, d) |> ignore
            throwsMentioning [ "'z'"; "[2, 3]"; "[3]" ] (fun () -> replay (torch.zeros(2L, 3L, dtype = torch.ScalarType.Float64)))
            throwsMentioning [ "'z'"; "[4]"; "[3]" ] (fun () -> replay (torch.zeros(4L, dtype = torch.ScalarType.Float64)))
            let mvn = Model.Observe("y", MultivariateNormalDiag(torch.zeros(2L, dtype = torch.ScalarType.Float64), torch.ones(2L, dtype = torch.ScalarType.Float64)), torch.zeros(3L, dtype = torch.ScalarType.Float64))
            throwsMentioning [ "'y'"; "event shape [2]" ] (fun () -> Interpreter.Sample(mvn) |> ignore)
        }

        test "the plate name 'particles' is reserved" {
            let m = Model.Plate("particles", 4L, Model.Cost("c", torch.ones(4L, dtype = torch.ScalarType.Float64)))
            throwsMentioning [ "'particles'"; "reserved"; "RunOptions.Particles" ] (fun () -> Interpreter.Sample(m) |> ignore)
            throwsMentioning [ "'particles'"; "reserved" ] (fun () -> Interpreter.Sample(m, RunOptions(Particles = 2)) |> ignore)
        }

        test "a MaxPlateNesting that is too low is detected, and the message says what to set" {
            let nested = Model.Plate("outer", 2L, Model.Plate("inner", 3L, Model.Sample("z", Normal(t 0.0, t 1.0))))
            throwsMentioning [ "'inner'"; "MaxPlateNesting"; "at least 2" ] (fun () ->
                Interpreter.Sample(nested, RunOptions(Seed = 1UL, Particles = 2, MaxPlateNesting = 1)) |> ignore)
            let batched = Model.Sample("v", Normal(torch.zeros(3L, dtype = torch.ScalarType.Float64), t 1.0))
            throwsMentioning [ "'v'"; "MaxPlateNesting"; "at least 1" ] (fun () ->
                Interpreter.Sample(batched, RunOptions(Seed = 1UL, Particles = 2, MaxPlateNesting = 0)) |> ignore)
            let wide = Model.Sample("w", Normal(torch.zeros(3L, 2L, dtype = torch.ScalarType.Float64), t 1.0))
            throwsMentioning [ "'w'"; "MaxPlateNesting"; "at least 2" ] (fun () ->
                Interpreter.Sample(wide, RunOptions(Seed = 1UL, Particles = 2, MaxPlateNesting = 0)) |> ignore)
            // measured, the nesting is right
            let r = Interpreter.Sample(nested, RunOptions(Seed = 1UL, Particles = 2))
            Expect.sequenceEqual r.Value.shape [| 2L; 3L; 2L |] "[particles, inner, outer]: plates fill dims from the right"
        }

        test "with particles, invalid parameters are reported with the site's name" {
            throwsMentioning [ "'b'"; "Bernoulli" ] (fun () ->
                Interpreter.Sample(Model.Sample("b", Bernoulli.FromProbs(t 1.5)), RunOptions(Seed = 1UL, Particles = 3)) |> ignore)
        }

        test "a baseline on a pathwise estimator is refused: it would do nothing" {
            throwsMentioning [ "pathwise"; "baseline" ] (fun () ->
                SiteEstimator.Pathwise.WithBaseline(Baseline.Constant 1.0) |> ignore)
        }

        test "a parameter initialised with integers is named in the message" {
            let m = Model.Param("count", fun () -> torch.tensor(3L))
            throwsMentioning [ "'count'"; "Int64"; "floating" ] (fun () -> Interpreter.Sample(m) |> ignore)
        }

        test "a LINQ from clause that yields null raises a clear error" {
            let e = Expect.throwsC (fun () -> Interpreter.Sample(Scg.Tests.CSharp.LinqEdgeCases.NullContinuation()) |> ignore) id
            Expect.equal (e.GetType()) typeof<InvalidOperationException> "InvalidOperationException"
            Expect.stringContains e.Message "null" "says null"
            Expect.stringContains e.Message "SelectMany" "names the operator"
        }

        test "typed lookups on a trace" {
            let m = model {
                let! y = Model.Sample("y", Normal(t 0.0, t 1.0))
                let! _ = Model.Observe("x", Normal(y, t 1.0), t 0.5)
                let! _ = Model.Cost("c", y.square())
                return () }
            let tr = Interpreter.Sample(m, RunOptions(Seed = 1UL)).Trace
            Expect.equal (tr.Sample("y").Name) "y" "sample"
            Expect.equal (tr.Observation("x").Name) "x" "observation"
            Expect.equal (tr.Cost("c").Name) "c" "cost"
            let e = Expect.throwsC (fun () -> tr.Sample("nope") |> ignore) id
            Expect.equal (e.GetType()) typeof<KeyNotFoundException> "missing: KeyNotFoundException"
            Expect.stringContains e.Message "'nope'" "names it"
            throwsMentioning [ "'c'"; "cost"; "not a sample" ] (fun () -> tr.Sample("c") |> ignore)
            throwsMentioning [ "'y'"; "sample"; "not a cost" ] (fun () -> tr.Cost("y") |> ignore)
            throwsMentioning [ "'c'"; "not an observation" ] (fun () -> tr.Observation("c") |> ignore)
        }
    
        // Found by a new-user review.
        test "a parameter of shape [N, 1] in a plate of N is refused, not broadcast to N x N" {
            let theta = torch.tensor(0.1, dtype = torch.ScalarType.Float64, requires_grad = true)
            let column = (f64 [ 1.0; 2.0; 3.0; 4.0 ]).reshape(4L, 1L)   // what nn.Linear(h, 1) returns
            let m = Model.Plate("data", 4L, model {
                let! z = Model.Sample("z", Normal(theta + column, t 1.0))
                let! _ = Model.Observe("x", Normal(z, t 1.0), f64 [ 0.1; 0.2; 0.3; 0.4 ])
                return () })
            throwsMentioning [ "'z'"; "[4, 1]"; "data"; "squeeze" ] (fun () -> Interpreter.Sample(m, RunOptions(Seed = 1UL)) |> ignore)
            // squeezed, it runs: one observation per data point
            let ok = Model.Plate("data", 4L, model {
                let! z = Model.Sample("z", Normal(theta + column.squeeze(-1), t 1.0))
                let! _ = Model.Observe("x", Normal(z, t 1.0), f64 [ 0.1; 0.2; 0.3; 0.4 ])
                return () })
            let tr = Interpreter.Sample(ok, RunOptions(Seed = 1UL)).Trace
            Expect.sequenceEqual (tr.Observation("x").LogProb.shape) [| 4L |] "four observations"
        }

        test "a cost outside the plate summed with keepdim works the same with and without particles" {
            // z_i ~ N(θ, 1), i < 3; cost (Σ z_i)²: E = (3θ)² + 3 = 5.25 at θ = 0.5.
            let theta = torch.tensor(0.5, dtype = torch.ScalarType.Float64, requires_grad = true)
            let m = model {
                let! z = Model.Plate("data", 3L, Model.Sample("z", Normal(theta, t 1.0)))
                let! _ = Model.Cost("c", z.sum(-1L, keepdim = true).square())
                return () }
            for k in [ 0; 1; 64 ] do
                let costs =
                    [| for seed in 1UL .. 200UL ->
                        let r = Interpreter.Sample(m, RunOptions(Seed = seed, Particles = k))
                        costOf r.Trace |]
                let mean = Array.average costs
                let se = sqrt ((costs |> Array.averageBy (fun c -> (c - mean) ** 2.0)) / float costs.Length)
                Expect.isLessThan (abs (mean - 5.25) / se) Stats.zBound (sprintf "K = %d: mean cost %.3f vs 5.25 (se %.3f)" k mean se)
        }

        test "with particles, Training.Train measures the plate nesting once, not at every step" {
            let runs = ref 0
            let m = Model.Defer(fun () ->
                runs.Value <- runs.Value + 1
                model {
                    let! mu = Model.Param("mu", fun () -> t 0.0)
                    let! z = Model.Plate("data", 2L, Model.Sample("z", Normal(mu, t 1.0)))
                    let! _ = Model.Cost("c", z.square().sum(-1L, keepdim = true))
                    return () })
            let store = ParamStore()
            Training.Train((fun _ -> m), store, sgd 0.01, 10, RunOptions(Seed = 3UL, Particles = 4)) |> ignore
            // creating the parameters: a dry run to place the particles and a run; the first step: a dry run and
            // a run; then one run per step (22 in all when every step measured the nesting again)
            Expect.equal runs.Value 13 "body runs"
        }
    
        test "a dimension added only under particles is explained, not answered with 'leave MaxPlateNesting unset'" {
            // A global z has shape [K, 1] with particles; unsqueeze(-1) adds a dimension the dry run never saw.
            let m = model {
                let! z = Model.Sample("z", Normal(t 0.0, t 1.0))
                let! _ = Model.Plate("data", 5L, Model.Observe("x", Normal(z.unsqueeze(-1L), t 1.0), f64 [ 1.0; 2.0; 3.0; 4.0; 5.0 ]))
                return () }
            let e = Expect.throwsC (fun () -> Interpreter.Sample(m, RunOptions(Seed = 1UL, Particles = 4)) |> ignore) id
            for fragment in [ "'x'"; "measured"; "unsqueeze"; "[K, 1" ] do
                Expect.stringContains e.Message fragment (sprintf "%A should mention %A" e.Message fragment)
            Expect.isFalse (e.Message.Contains "leave it unset") "no advice to do what was done"
        }
    ]
