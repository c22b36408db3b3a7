/// ParamStore.Save / Load: parameters, baseline state and modules survive a round trip, so a training run with
/// baselines can be stopped and resumed; bad files and mismatched shapes give clear errors.
module Scg.Tests.ParamStoreFileTests

open System.IO
open Expecto
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Estimators

let private model = ModelBuilder()
let private throwsMentioning = ErrorTests.throwsMentioning

/// A plated Bernoulli model with a parameter, a module and a moving-average baseline on y.
let private build (net: torch.nn.Module<torch.Tensor, torch.Tensor>) =
    Model.Plate("data", 3L, model {
        let! theta = Model.Param("theta", fun () -> torch.zeros(3L))
        let! lin = Model.Module("net", net)
        let! y = Model.Sample("y", Bernoulli.FromLogits(theta), SiteEstimator.ScoreFunction.WithBaseline(Baseline.MovingAverage(0.5)))
        let! _ = Model.Cost("c", (y - 0.3).square() + lin.call(theta.unsqueeze(-1)).squeeze(-1))
        return () })

let private roundTrip (store: ParamStore) =
    use ms = new MemoryStream()
    store.Save(ms)
    ms.Position <- 0L
    let restored = ParamStore()
    restored.Load(ms)
    restored

let private gradOfTheta (store: ParamStore) seed =
    let run = Interpreter.Sample(build (torch.nn.Linear(1L, 1L)), RunOptions(Params = store, Seed = seed))
    let objective = Surrogate.Build(run.Trace)
    let theta = store.["theta"]
    let g = torch.autograd.grad([| objective.Surrogate |], [| theta :> torch.Tensor |], retain_graph = true)
    g.[0].data<float32>().ToArray()

[<Tests>]
let tests =
    testList "param store files" [
        test "parameters, moving averages and modules survive a round trip; training resumes where it stopped" {
            torch.manual_seed 5L |> ignore
            let store = ParamStore()
            let net = torch.nn.Linear(1L, 1L)
            for s in 1UL .. 3UL do
                let run = Interpreter.Sample(build net, RunOptions(Params = store, Seed = s))
                Surrogate.Build(run.Trace) |> ignore
            Expect.isTrue (store.States.Count = 1) "the moving average is kept as state"
            do
                use _ = torch.no_grad()
                store.["theta"].add_(torch.tensor([| 0.1f; -0.2f; 0.3f |])) |> ignore
            let restored = roundTrip store
            Expect.sequenceEqual (restored.["theta"].data<float32>().ToArray()) (store.["theta"].data<float32>().ToArray()) "theta"
            for KeyValue(k, v) in store.States do
                Expect.sequenceEqual (restored.States.[k].data<float32>().ToArray()) (v.data<float32>().ToArray()) k
            // the module is registered after loading: it receives the saved weights then
            let fresh = torch.nn.Linear(1L, 1L)
            restored.GetOrAddModule("net", fresh) |> ignore
            Expect.sequenceEqual (fresh.weight.data<float32>().ToArray()) (net.weight.data<float32>().ToArray()) "module weights"
            // the next step's gradient is the same from the original and from the restored store
            let a = gradOfTheta store 9UL
            let b = gradOfTheta restored 9UL
            Expect.sequenceEqual b a "the same gradient after restoring (moving-average baseline included)"
        }

        test "building one trace's surrogate twice folds its cost-to-go into a moving average once" {
            let store = ParamStore()
            let net = torch.nn.Linear(1L, 1L)
            for s in 1UL .. 2UL do
                Surrogate.Build(Interpreter.Sample(build net, RunOptions(Params = store, Seed = s)).Trace) |> ignore
            let run = Interpreter.Sample(build net, RunOptions(Params = store, Seed = 3UL))
            let first = Surrogate.Build(run.Trace)
            let state () = store.States |> Seq.head |> fun kv -> kv.Value.data<float32>().ToArray()
            let after = state ()
            let again = Surrogate.Build(run.Trace, SurrogateOptions(Vectorize = false))
            Expect.sequenceEqual (state ()) after "the second build leaves the average alone"
            Expect.floatClose Accuracy.high (again.Surrogate.item<float32>() |> float) (first.Surrogate.item<float32>() |> float) "and sees the same baseline"
            Dice.Build(run.Trace) |> ignore
            Expect.sequenceEqual (state ()) after "so does a DiCE surrogate of the same trace"
        }

        test "Training.Train over a store the model never fills is refused (its optimizer would train nothing)" {
            let outside = torch.tensor(0.1, requires_grad = true)
            let m = model { let! y = Model.Sample("y", Bernoulli.FromLogits(outside)) in let! _ = Model.Cost("c", y) in return () }
            throwsMentioning [ "no parameter"; "Model.Param" ] (fun () ->
                Scg.Linq.Training.Train((fun _ -> m), ParamStore(), (fun ps -> torch.optim.Adam(ps, 0.1) :> torch.optim.Optimizer), 3) |> ignore)
        }

        test "loading into a store that already has the parameter overwrites it in place" {
            let store = ParamStore()
            store.GetOrCreate("w", fun () -> torch.ones(2L)) |> ignore
            use ms = new MemoryStream()
            store.Save(ms)
            let other = ParamStore()
            let w = other.GetOrCreate("w", fun () -> torch.zeros(2L))
            ms.Position <- 0L
            other.Load(ms)
            Expect.isTrue (obj.ReferenceEquals(w, other.["w"])) "the same parameter object (optimizers holding it keep working)"
            Expect.sequenceEqual (w.data<float32>().ToArray()) [| 1.0f; 1.0f |] "overwritten"
        }

        test "a shape mismatch, a module missing a key and a file that is not a store are refused clearly" {
            let store = ParamStore()
            store.GetOrCreate("w", fun () -> torch.ones(2L)) |> ignore
            use ms = new MemoryStream()
            store.Save(ms)
            let other = ParamStore()
            other.GetOrCreate("w", fun () -> torch.zeros(3L)) |> ignore
            ms.Position <- 0L
            throwsMentioning [ "'w'"; "[2]"; "[3]" ] (fun () -> other.Load(ms))
            let withModule = ParamStore()
            withModule.GetOrAddModule("net", torch.nn.Linear(2L, 1L)) |> ignore
            use ms2 = new MemoryStream()
            withModule.Save(ms2)
            ms2.Position <- 0L
            let target = ParamStore()
            target.GetOrAddModule("net", torch.nn.Sequential(torch.nn.ReLU())) |> ignore
            throwsMentioning [ "'net'"; "lacks" ] (fun () -> target.Load(ms2))
            use garbage = new MemoryStream([| 1uy; 2uy; 3uy |])
            Expect.throwsT<InvalidDataException> (fun () -> ParamStore().Load(garbage)) "not a store"
        }
    ]
