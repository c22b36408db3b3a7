/// The F# surface (Scg.FSharp): every member of the model { } builder, the Model.* functions that return
/// Model<unit> for do!, loops of 100,000 iterations, and traces and gradients equal to hand-written Bind chains.
module Scg.Tests.FSharpBuilderTests

open System
open System.Threading.Tasks
open Expecto
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Estimators
open Scg.Linq
open Scg.FSharp

type private Tensor = torch.Tensor

let private f64 (xs: float[]) = torch.tensor(xs, dtype = torch.ScalarType.Float64, requires_grad = true)
let private scalar (x: float) = torch.tensor(x, dtype = torch.ScalarType.Float64)
let private normal (mu: Tensor) (sigma: float) = Normal(mu, scalar sigma)
let private run seed (m: Model<'T>) = Interpreter.Sample(m, RunOptions(Seed = seed))
let private names (r: RunResult<'T>) = [ for n in r.Trace.Nodes -> n.Name ]
let private edges (r: RunResult<'T>) = TraceSignature.ofTrace r.Trace |> snd
let private sameRun = InterfaceTests.sameRun

/// The exception of type 'E that the function throws (any other outcome fails the test).
let private caught<'E when 'E :> exn> (f: unit -> unit) : 'E =
    try
        f ()
        failtest (sprintf "expected %s" typeof<'E>.Name)
    with :? 'E as e -> e

/// Runs the check on the calling thread and again on a thread-pool thread (a smaller stack).
let private bothThreads name (check: unit -> unit) =
    testList name [
        testCase "calling thread" check
        testCase "thread-pool thread" <| fun () -> Task.Run(check).Wait()
    ]

/// A disposable that writes its creation and disposal to a log.
type private Resource(log: ResizeArray<string>, name: string) =
    do log.Add("open " + name)
    member _.Name = name
    interface IDisposable with
        member _.Dispose() = log.Add("dispose " + name)

// ---- a loop over data and a conditional on a sampled value, in the builder and as a hand-written chain ----

let private data = [ 0.5; 1.5; -0.25 ]

/// A latent mean, one observation per datum (a loop), and a cost only when the mean is positive.
let private loopModel (mu: Tensor) =
    model {
        let! z = Model.Sample("z", normal mu 1.0)
        for i, x in List.indexed data do
            do! Model.observe (sprintf "x%d" i) (normal z 0.5) (scalar x)
        if z.item<float>() > 0.0 then
            do! Model.cost "penalty" (z.square())
        return z
    }

/// The same model as Bind calls.
let private loopChain (mu: Tensor) =
    Model.Sample("z", normal mu 1.0).Bind(fun z ->
        let rec observeFrom i =
            if i = data.Length then Model.Return(())
            else Model.Observe(sprintf "x%d" i, normal z 0.5, scalar data.[i]).Bind(fun _ -> observeFrom (i + 1))
        observeFrom(0).Bind(fun () ->
            (if z.item<float>() > 0.0 then Model.Cost("penalty", z.square()).Map(fun _ -> ()) else Model.Return(()))
                .Bind(fun () -> Model.Return z)))

// ---- functions with no type annotations: the builder leaves F# inference working ----

let private twice m = model {
    let! a = m
    let! b = m
    return a, b }

let private costs prefix xs = model {
    for i, x in Seq.indexed xs do
        do! Model.cost (sprintf "%s%d" prefix i) x }

// ---- docs/fsharp.md's first example, as written there ----

let private readings = [ 0.5; nan; 1.5; -0.25 ]     // nan: a missing reading

let private level = model {
    let! mu = Model.param "mu" (fun () -> torch.tensor 0.0)
    let! z = Model.Sample("z", Normal(mu, torch.tensor 1.0))
    for i, x in List.indexed readings do
        if not (Double.IsNaN x) then
            do! Model.observe $"x{i}" (Normal(z, torch.tensor 0.5)) (torch.tensor x)
    return z }

let private deep = 100_000

[<Tests>]
let tests =
    testList "F# builder" [
        test "Bind and Return: the lecture model records the trace and gradient of the C# core model" {
            let (l, m, s, t, b) = InterfaceTests.lectureParams ()
            let fsharp = model {
                let! y = Model.Sample("y", Categorical.FromLogits(l))
                let! z = Model.Sample("z", Normal(m.[y], s.[y].exp()))
                do! Model.cost "loss" ((z - t.[y]).square() + b.[y])
                return z }
            for seed in [ 1UL; 2UL; 3UL ] do
                sameRun "core vs F#" seed (Scg.Tests.CSharp.LectureModels.Core(l, m, s, t, b)) fsharp [ l; m; s; t; b ]
        }

        test "for over a plate-free list and if: the same trace and gradient as the hand-written Bind chain" {
            let mu = f64 [| 0.3 |]
            let mutable penalised = 0
            for seed in 1UL .. 12UL do
                sameRun (sprintf "seed %d" seed) seed (loopChain mu) (loopModel mu) [ mu ]
                if names (run seed (loopModel mu)) |> List.contains "penalty" then penalised <- penalised + 1
            Expect.isTrue (penalised > 0 && penalised < 12) "both branches of the conditional were taken"
            let r = run 1UL (loopModel mu)
            Expect.equal (names r |> List.take 4) [ "z"; "x0"; "x1"; "x2" ] "one observation per datum, in order"
            Expect.containsAll (edges r) [ "z", "x0"; "z", "x1"; "z", "x2" ] "every observation in the loop is downstream of z"
        }

        test "for: the sequence is read in every run, and the model value runs again from the start" {
            let reads = ref 0
            let xs = seq { reads.Value <- reads.Value + 1; yield 1.0; yield 2.0 }
            let m = costs "c" (Seq.map scalar xs)
            let a, b = run 1UL m, run 2UL m
            Expect.equal (names a) [ "c0"; "c1" ] "first run"
            Expect.equal (names b) [ "c0"; "c1" ] "second run"
            Expect.equal reads.Value 2 "read once per run"
            Expect.equal (names (run 1UL (costs "e" []))) [] "an empty loop records nothing"
        }

        test "while: the guard is evaluated in the run, and the loop matches the Bind chain" {
            let mu = f64 [| 0.1 |]
            let walk = model {
                let steps = ref 0
                let! start = Model.Sample("s0", normal mu 1.0)
                let position = ref start
                while steps.Value < 3 do
                    steps.Value <- steps.Value + 1
                    let! next = Model.Sample(sprintf "s%d" steps.Value, normal position.Value 1.0)
                    position.Value <- next
                do! Model.cost "end" (position.Value.square())
                return steps.Value }
            let chain =
                Model.Sample("s0", normal mu 1.0).Bind(fun s0 ->
                    Model.Sample("s1", normal s0 1.0).Bind(fun s1 ->
                        Model.Sample("s2", normal s1 1.0).Bind(fun s2 ->
                            Model.Sample("s3", normal s2 1.0).Bind(fun s3 ->
                                Model.Cost("end", s3.square()).Map(fun _ -> 3)))))
            for seed in [ 1UL; 2UL; 3UL ] do
                sameRun "while vs chain" seed chain walk [ mu ]
                Expect.equal (run seed walk).Value 3 "three iterations in every run"
        }

        bothThreads "for over 100,000 elements runs in constant stack depth" <| fun () ->
            let m = model {
                let total = ref 0
                for i in 1 .. deep do
                    let! v = Model.Return i
                    total.Value <- total.Value + v
                return total.Value }
            Expect.equal (run 1UL m).Value (deep * (deep + 1) / 2) "sum"

        bothThreads "while of 100,000 iterations, each recording a cost, runs in constant stack depth" <| fun () ->
            let m = model {
                let i = ref 0
                while i.Value < deep do
                    do! Model.cost (sprintf "c%d" i.Value) (scalar 1.0)
                    i.Value <- i.Value + 1
                return i.Value }
            let r = run 1UL m
            Expect.equal r.Value deep "iterations"
            Expect.equal (Seq.length r.Trace.Costs) deep "one cost per iteration"

        bothThreads "a loop of 100,000 plates, products and try blocks runs in constant stack depth" <| fun () ->
            let m = model {
                let total = ref 0
                for i in 1 .. deep do
                    try
                        let! a = Model.plate "p" 2L (Model.Return 1)
                        and! b = Model.Return i
                        total.Value <- total.Value + a + b - i
                    finally
                        total.Value <- total.Value + 1
                return total.Value }
            Expect.equal (run 1UL m).Value (2 * deep) "value"

        test "try/with catches a primitive refusing bad input; the handler's model runs in its place" {
            let bad = model {
                try
                    let! z = Model.Sample("z", Normal(scalar 0.0, scalar -1.0))
                    return z
                with e ->
                    let! w = Model.Sample("w", normal (scalar 0.0) 1.0)
                    do! Model.cost ("error: " + e.Message) (scalar 0.0)
                    return w }
            let r = run 1UL bad
            let nodes = names r
            Expect.equal nodes.Head "w" "the handler ran; nothing of the failed site was recorded"
            Expect.stringContains nodes.[1] "Sample site 'z'" "the handler saw the primitive's exception"
        }

        test "try/with inside a plate and a product: the scopes are left before the handler runs" {
            let m = model {
                let! r =
                    Model.plate "outer" 3L (model {
                        try
                            let! a = Model.plate "inner" 2L (Model.Sample("a", normal (scalar 0.0) 1.0))
                            and! b = Model.Observe("b", Normal(scalar 0.0, scalar -1.0), scalar 0.0)
                            return a.sum(-1L) + b
                        with :? ArgumentException ->
                            return! Model.Sample("fallback", normal (scalar 0.0) 1.0) })
                do! Model.cost "after" (r.sum())
                return r }
            let r = run 1UL m
            let plates = [ for n in r.Trace.Nodes -> n.Name, [ for p in n.Plates -> p.Name ] ]
            Expect.equal plates [ "a", [ "outer"; "inner" ]; "fallback", [ "outer" ]; "after", [] ] "plate frames restored"
            Expect.equal r.Value.shape [| 3L |] "the handler's value, one per element of the outer plate"
        }

        test "try/with: an exception the handler does not match, or one it throws, passes outward" {
            let unmatched = model {
                try
                    do! Model.cost "c" (scalar 1.0)
                    failwith "from the body"
                    return 0
                with :? InvalidCastException -> return 1 }
            let e = caught<Exception> (fun () -> run 1UL unmatched |> ignore)
            Expect.equal e.Message "from the body" "unmatched exception intact"
            let rethrown = model {
                try return! Model.Defer(fun () -> raise (ArgumentException "inner"))
                with e -> return raise (InvalidOperationException("handler: " + e.Message)) }
            let e = caught<InvalidOperationException> (fun () -> run 1UL rethrown |> ignore)
            Expect.equal e.Message "handler: inner" "the handler's own exception"
            let caughtOutside = model {
                try
                    let! (n: int) = rethrown
                    return string n
                with e -> return e.Message }
            Expect.equal (run 1UL caughtOutside).Value "handler: inner" "an outer handler catches the inner handler's exception"
        }

        test "try/with does not catch the interpreter's own signals: an enumerated site inside it still enumerates" {
            let m = model {
                try
                    let! c = Model.Sample("c", Bernoulli.FromLogits(scalar 0.3), SiteEstimator.Enumerate)
                    do! Model.cost "c2" (c * 2.0)
                    return "body"
                with _ -> return "handler" }
            let r = run 1UL m
            Expect.equal r.Value "body" "the body's value"
            Expect.equal (names r) [ "c"; "c2" ] "enumerated"
        }

        test "try/finally runs the finalizer after the body, and when it throws, before an outer handler" {
            let log = ResizeArray<string>()
            let inner fail = model {
                try
                    do! Model.cost "c" (scalar 1.0)
                    if fail then failwith "boom"
                    log.Add "body"
                finally
                    log.Add "finally" }
            let ok = model {
                do! inner false
                log.Add "after" }
            run 1UL ok |> ignore
            Expect.equal (List.ofSeq log) [ "body"; "finally"; "after" ] "normal completion"
            log.Clear()
            let failing = model {
                try do! inner true
                with e -> log.Add("handler " + e.Message) }
            run 1UL failing |> ignore
            Expect.equal (List.ofSeq log) [ "finally"; "handler boom" ] "finalizer first, then the handler"
            log.Clear()
            Expect.throwsT<Exception> (fun () -> run 1UL (inner true) |> ignore) "uncaught"
            Expect.equal (List.ofSeq log) [ "finally" ] "finalizer ran before the exception left the run"
        }

        test "use disposes the resource when its block has run, in every run, and when the block throws" {
            let log = ResizeArray<string>()
            let block fail = model {
                use r = new Resource(log, "r")
                do! Model.cost r.Name (scalar 1.0)
                if fail then raise (InvalidOperationException "in the block")
                log.Add "body"
                return r.Name }
            let m = model {
                let! name = block false
                log.Add("after " + name) }
            run 1UL m |> ignore
            Expect.equal (List.ofSeq log) [ "open r"; "body"; "dispose r"; "after r" ] "disposed when the block's value is produced"
            run 2UL m |> ignore
            Expect.equal log.Count 8 "the second run opens and disposes its own resource"
            log.Clear()
            Expect.throwsT<InvalidOperationException> (fun () -> run 1UL (block true) |> ignore) "throws"
            Expect.equal (List.ofSeq log) [ "open r"; "dispose r" ] "disposed on the way out"
            let nothing = model {
                use _ = (null: IDisposable)
                return 1 }
            Expect.equal (run 1UL nothing).Value 1 "a null resource is allowed"
        }

        test "do! of Model.cost, Model.observe and Model.ignore records what let! _ = records" {
            let mu = f64 [| 0.2 |]
            let withDo = model {
                do! Model.ignore (Model.Sample("a", normal mu 1.0))
                let! b = Model.sample "b" (normal mu 1.0)
                do! Model.observe "x" (normal b 1.0) (scalar 0.7)
                do! Model.cost "c" (b.square()) }
            let withLet = model {
                let! _ = Model.Sample("a", normal mu 1.0)
                let! b = Model.Sample("b", normal mu 1.0)
                let! _ = Model.Observe("x", normal b 1.0, scalar 0.7)
                let! _ = Model.Cost("c", b.square())
                return () }
            for seed in [ 1UL; 2UL ] do sameRun "do! vs let! _" seed withLet withDo [ mu ]
        }

        test "and! is an independent product; let! is a sequence" {
            let both = model {
                let! a = Model.sample "a" (normal (scalar 0.0) 1.0)
                and! b = Model.sample "b" (normal (scalar 0.0) 1.0)
                do! Model.cost "c" (a + b) }
            Expect.equal (edges (run 1UL both)) (set [ "a", "c"; "b", "c" ]) "no edge between a and b"
            let chained = model {
                let! a = Model.sample "a" (normal (scalar 0.0) 1.0)
                let! b = Model.sample "b" (normal (scalar 0.0) 1.0)
                do! Model.cost "c" (a + b) }
            Expect.contains (edges (run 1UL chained)) ("a", "b") "b after a"
        }

        test "BindReturn, ReturnFrom, Zero and Combine match Map, the model itself, Return(()) and Bind" {
            let mu = f64 [| -0.4 |]
            let s = Model.Sample("s", normal mu 1.0)
            sameRun "BindReturn" 1UL (s.Map(fun x -> x * 2.0)) (model { let! x = s in return x * 2.0 }) [ mu ]
            sameRun "ReturnFrom" 1UL s (model { return! s }) [ mu ]
            Expect.equal (names (run 1UL (model { if false then do! Model.cost "never" (scalar 1.0) }))) [] "Zero records nothing"
            let combined = model {
                do! Model.cost "c1" (scalar 1.0)
                if true then do! Model.cost "c2" (scalar 2.0)
                return! s }
            let chain = Model.Cost("c1", scalar 1.0).Bind(fun _ -> Model.Cost("c2", scalar 2.0).Bind(fun _ -> s))
            sameRun "Combine" 1UL chain combined [ mu ]
        }

        test "models written without type annotations infer (a generic function used at two types)" {
            let ints = twice (Model.Return 3)
            let texts = twice (Model.Return "x")
            Expect.equal (run 1UL ints).Value (3, 3) "ints"
            Expect.equal (run 1UL texts).Value ("x", "x") "strings"
            Expect.equal (names (run 1UL (costs "k" [ scalar 1.0; scalar 2.0 ]))) [ "k0"; "k1" ] "loop helper"
        }

        test "the docs' model trains: mu approaches the mean of the readings that are not missing" {
            let store = ParamStore()
            let costs =
                Training.Train((fun _ -> level), store, (fun ps -> torch.optim.Adam(ps, 0.05) :> torch.optim.Optimizer),
                               300, RunOptions(Seed = 1UL, Particles = 16))
            let mu = store.["mu"].item<float>()
            // E[cost] = sum_i (x_i - mu)^2 / (2 * 0.25) + const over the three readings: minimised at their mean
            Expect.floatClose { absolute = 0.1; relative = 0.0 } mu ((0.5 + 1.5 - 0.25) / 3.0) "mu"
            Expect.equal costs.Count 300 "one cost per step"
            Expect.equal (names (run 1UL level)) [ "mu"; "z"; "x0"; "x2"; "x3" ] "the missing reading is skipped"
        }

        test "the docs' plate example: one observation node for the three data, inside the plate" {
            let xs = torch.tensor [| 0.5; 1.5; -0.25 |]
            let iid = model {
                let! z = Model.Sample("z", Normal(torch.tensor 0.0, torch.tensor 1.0))
                do! Model.plate "data" 3L (Model.observe "x" (Normal(z, torch.tensor 0.5)) xs)
                return z }
            let r = run 1UL iid
            Expect.equal [ for n in r.Trace.Nodes -> n.Name, [ for p in n.Plates -> p.Name ] ] [ "z", []; "x", [ "data" ] ] "nodes"
        }

        test "a model with a parameter, a plate and a loop gives the Bind chain's trace and gradient" {
            let w = f64 [| 0.5 |]
            let fsharp = model {
                let! scale = Model.param "scale" (fun () -> scalar 0.0)
                let! z = Model.plate "data" 4L (Model.sample "z" (Normal(w.expand(4L), scale.exp())))
                for k in 1 .. 2 do
                    do! Model.cost (sprintf "c%d" k) ((z * float k).square().sum()) }
            let chain =
                Model.Param("scale", fun () -> scalar 0.0).Bind(fun scale ->
                    Model.Plate("data", 4L, Model.Sample("z", Normal(w.expand(4L), scale.exp()))).Bind(fun z ->
                        Model.Cost("c1", (z * 1.0).square().sum()).Bind(fun _ ->
                            Model.Cost("c2", (z * 2.0).square().sum()).Map(fun _ -> ()))))
            for seed in [ 1UL; 2UL ] do sameRun "trains like the chain" seed chain fsharp [ w ]
            let store = ParamStore()
            let r = Interpreter.Sample(fsharp, RunOptions(Seed = 1UL, Params = store))
            Expect.equal [ for c in r.Trace.Costs -> c.Name ] [ "c1"; "c2" ] "one cost per iteration"
            let g = Stats.gradOf (Surrogate.Build(r.Trace).Surrogate) [ w; store.["scale"] :> Tensor ]
            Expect.isTrue (g |> Array.forall (fun x -> Double.IsFinite x && x <> 0.0)) "gradients reach w and the parameter"
        }
    ]
