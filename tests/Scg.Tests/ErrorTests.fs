/// Bad input raises an exception whose message names the site, plate or parameter.
module Scg.Tests.ErrorTests

open System
open Expecto
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation

let model = ModelBuilder()
let t (x: float) = torch.tensor(x, dtype = torch.ScalarType.Float64)
let run (m: Model<'T>) = Interpreter.Sample(m, RunOptions(Seed = 1UL)) |> ignore

let throwsMentioning (fragments: string list) (f: unit -> unit) =
    let e = Expect.throwsC f id
    for fragment in fragments do
        Expect.stringContains e.Message fragment (sprintf "message %A should mention %A" e.Message fragment)

[<Tests>]
let tests =
    testList "bad input" [
        test "a site name used twice" {
            let m = model {
                let! _ = Model.Sample("z", Normal(t 0.0, t 1.0))
                let! _ = Model.Sample("z", Normal(t 0.0, t 1.0))
                return () }
            throwsMentioning [ "'z'"; "twice"; "function of a name"; "Model.Plate" ] (fun () -> run m)
        }
        test "a plate opened plainly and then subsampled (a guide against its model) says how to make them agree" {
            let m = model {
                let! _ = Model.Plate("data", 4L, Model.Sample("z", Normal(t 0.0, t 1.0)))
                let! _ = Model.Subsample("data", 8L, 4L, fun _ -> Model.Cost("c", t 1.0))
                return () }
            throwsMentioning [ "'data'"; "N/B = 1"; "now reopened with 2"; "Model.Subsample with the same N and B" ] (fun () -> run m)
        }
        test "negative particles or plate nesting name the option" {
            let m = model { let! z = Model.Sample("z", Normal(t 0.0, t 1.0)) in return z }
            throwsMentioning [ "RunOptions.Particles"; "-2" ] (fun () -> Interpreter.Sample(m, RunOptions(Particles = -2)) |> ignore)
            throwsMentioning [ "RunOptions.MaxPlateNesting"; "-3"; "null" ] (fun () ->
                Interpreter.Sample(m, RunOptions(Particles = 2, MaxPlateNesting = Nullable -3)) |> ignore)
        }
        test "a native error in the model's code says after which node it happened, and about particles when they are on" {
            let m = model {
                let! z = Model.Sample("z", Normal(t 0.0, t 1.0).Expand([| 3L |]))
                let! _ = Model.Cost("c", (z + torch.ones(4L, dtype = torch.ScalarType.Float64)).sum())   // [3] + [4]
                return () }
            throwsMentioning [ "failed in a tensor operation"; "after recording sample z"; "node 0" ] (fun () -> Interpreter.Sample(m) |> ignore)
            let plated = Model.Plate("p", 3L, model {
                let! z = Model.Sample("z", Normal(t 0.0, t 1.0))
                let! _ = Model.Cost("c", z + torch.ones(4L, dtype = torch.ScalarType.Float64))
                return () })
            throwsMentioning [ "after recording sample z"; "RunOptions.Particles = 2"; "particle dimension at dim -2" ] (fun () ->
                Interpreter.Sample(plated, RunOptions(Particles = 2, MaxPlateNesting = Nullable 1)) |> ignore)
            throwsMentioning [ "after recording sample z"; "measures the model's batch rank" ] (fun () ->
                Interpreter.Sample(plated, RunOptions(Particles = 2)) |> ignore)
        }
        test "a cost reusing a sample site's name" {
            let m = model { let! z = Model.Sample("z", Normal(t 0.0, t 1.0)) in let! _ = Model.Cost("z", z) in return () }
            throwsMentioning [ "'z'"; "twice" ] (fun () -> run m)
        }
        test "a non-positive scale" {
            throwsMentioning [ "'z'"; "Normal"; "scale" ] (fun () -> run (Model.Sample("z", Normal(t 0.0, t -1.0))))
            throwsMentioning [ "'z'"; "scale" ] (fun () -> run (Model.Sample("z", Normal(t 0.0, t 0.0))))
        }
        test "a NaN parameter" {
            throwsMentioning [ "'z'"; "loc" ] (fun () -> run (Model.Sample("z", Normal(t nan, t 1.0))))
        }
        test "a probability outside [0, 1]" {
            throwsMentioning [ "'b'"; "Bernoulli" ] (fun () -> run (Model.Sample("b", Bernoulli.FromProbs(t 1.5))))
            throwsMentioning [ "'b'"; "Bernoulli" ] (fun () -> run (Model.Sample("b", Bernoulli.FromProbs(t -0.1))))
        }
        test "an observation outside the support" {
            throwsMentioning [ "'x'"; "support"; "Bernoulli" ] (fun () -> run (Model.Observe("x", Bernoulli.FromProbs(t 0.3), t 0.5)))
        }
        test "pathwise requested for a distribution that is not reparameterised" {
            throwsMentioning [ "'b'"; "pathwise"; "Bernoulli" ] (fun () ->
                run (Model.Sample("b", Bernoulli.FromProbs(t 0.3), SiteEstimator.Pathwise)))
        }
        test "a cost that does not broadcast to its plate" {
            let m = Model.Plate("data", 3L, Model.Cost("c", torch.ones(4L, dtype = torch.ScalarType.Float64)))
            throwsMentioning [ "'c'"; "data" ] (fun () -> run m)
            throwsMentioning [ "'v'" ] (fun () -> run (Model.Cost("v", torch.ones(2L))))
        }
        test "a plate reopened with another size" {
            let m = model {
                let! _ = Model.Plate("data", 3L, Model.Return 0)
                let! _ = Model.Plate("data", 4L, Model.Return 0)
                return () }
            throwsMentioning [ "'data'"; "4"; "3" ] (fun () -> run m)
        }
        test "a site whose batch shape disagrees with its plate" {
            let m = Model.Plate("data", 3L, Model.Sample("z", Normal(torch.zeros(5L), torch.ones(5L))))
            throwsMentioning [ "'z'"; "'data'" ] (fun () -> run m)
        }
        test "replay without a value for a site" {
            let m = model { let! a = Model.Sample("a", Normal(t 0.0, t 1.0)) in let! b = Model.Sample("b", Normal(a, t 1.0)) in return b }
            let values = dict [ "a", t 0.5 ] |> Collections.Generic.Dictionary
            throwsMentioning [ "'b'"; "Replay" ] (fun () -> Interpreter.Replay(m, values) |> ignore)
        }
        test "replay with a value for a site the model does not have" {
            let m = Model.Sample("a", Normal(t 0.0, t 1.0))
            let values = dict [ "a", t 0.5; "ghost", t 1.0 ] |> Collections.Generic.Dictionary
            throwsMentioning [ "'ghost'" ] (fun () -> Interpreter.Replay(m, values) |> ignore)
        }
        test "a continuation that returns null" {
            let m = (Model.Return 1).Bind(fun _ -> (null: Model<int>))
            throwsMentioning [ "null" ] (fun () -> run m)
        }
    ]
