/// Recursion through products, plates, repeats and sequences runs in constant call-stack depth, on the main
/// thread and on a thread-pool thread (smaller stack). A stack overflow kills the process, so the depths here
/// are ones that crashed the test run before the interpreter kept these bodies on its own continuation stack.
module Scg.Tests.StackSafetyTests

open System
open System.Threading.Tasks
open Expecto
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Linq

let private deep = 100_000

/// Runs the check on the calling thread and again on a thread-pool thread.
let private bothThreads name (check: unit -> unit) =
    testList name [
        testCase "calling thread" check
        testCase "thread-pool thread" <| fun () -> Task.Run(check).Wait()
    ]

let private valueOf (m: Model<'T>) = Interpreter.Sample(m).Value

/// Recursion through the second operand of Zip: Zip(leaf, recursion).
let rec private zipRight (n: int) : Model<int> =
    if n = 0 then Model.Return 0
    else Model.Zip(Model.Return 1, Model.Defer(fun () -> zipRight (n - 1))).Map(fun struct (a, b) -> a + b)

/// Recursion through the first operand of Zip: Zip(recursion, leaf).
let rec private zipLeft (n: int) : Model<int> =
    if n = 0 then Model.Return 0
    else Model.Zip(Model.Defer(fun () -> zipLeft (n - 1)), Model.Return 1).Map(fun struct (a, b) -> a + b)

/// Recursion through the list form of Zip.
let rec private zipMany (n: int) : Model<int> =
    if n = 0 then Model.Return 0
    else Model.Zip([ Model.Return 1; Model.Defer(fun () -> zipMany (n - 1)); Model.Return 0 ]).Map(fun xs -> Seq.sum xs)

/// Recursion through Zip with a cost at every level: the trace holds one node per level.
let rec private zipCosts (n: int) : Model<int> =
    if n = 0 then Model.Return 0
    else
        Model.Zip(Model.Cost(sprintf "c%d" n, torch.tensor 1.0), Model.Defer(fun () -> zipCosts (n - 1)))
            .Map(fun struct (_, b) -> b + 1)

/// Recursion through the step of a one-step Repeat.
let rec private repeatNested (n: int) : Model<int> =
    if n = 0 then Model.Return 0
    else Model.Repeat(1, 0, fun _ _ -> Model.Defer(fun () -> repeatNested (n - 1)).Map(fun x -> x + 1))

/// Recursion through Repeat, Zip and a closed plate in turn.
let rec private mixed (n: int) : Model<int> =
    if n = 0 then Model.Return 0
    else
        match n % 3 with
        | 0 -> Model.Repeat(2, 0, fun s t -> if t = 0 then Model.Return(s + 1) else Model.Defer(fun () -> mixed (n - 1)).Map(fun x -> x + s))
        | 1 -> Model.Zip(Model.Plate("p", 2L, Model.Return 0), Model.Defer(fun () -> mixed (n - 1))).Map(fun struct (_, b) -> b + 1)
        | _ -> Model.Plate("p", 2L, Model.Return 1).Bind(fun one -> Model.Defer(fun () -> mixed (n - 1)).Map(fun x -> x + one))

/// Recursion through a one-element Sequence.
let rec private sequenceNested (n: int) : Model<int> =
    if n = 0 then Model.Return 0
    else ModelQuery.Sequence([ Model.Defer(fun () -> sequenceNested (n - 1)) ]).Map(fun xs -> xs.[0] + 1)

/// Plates nested through recursion, each with a new name: the 65th distinct plate is refused.
let rec private platesNested (n: int) : Model<int> =
    if n = 0 then Model.Return 0
    else Model.Plate(sprintf "p%d" n, 1L, Model.Defer(fun () -> platesNested (n - 1))).Map(fun x -> x + 1)

/// The exception of type 'E that the function throws (any other outcome fails the test).
let private caught<'E when 'E :> exn> (f: unit -> unit) : 'E =
    try
        f ()
        failtest (sprintf "expected %s" typeof<'E>.Name)
    with :? 'E as e -> e

let private edges (t: Tracing.Trace) = TraceSignature.ofTrace t |> snd

[<Tests>]
let tests =
    testList "stack safety" [
        bothThreads "recursion through Zip(leaf, recursion)" <| fun () ->
            Expect.equal (valueOf (zipRight deep)) deep "value"
        bothThreads "recursion through Zip(recursion, leaf)" <| fun () ->
            Expect.equal (valueOf (zipLeft deep)) deep "value"
        bothThreads "recursion through Zip of a list" <| fun () ->
            Expect.equal (valueOf (zipMany deep)) deep "value"
        bothThreads "recursion through Zip with a cost per level" <| fun () ->
            let trace = Interpreter.Sample(zipCosts deep).Trace
            Expect.equal (Seq.length trace.Costs) deep "one cost per level"
        bothThreads "recursion through Zip with particles" <| fun () ->
            Expect.equal (Interpreter.Sample(zipRight deep, RunOptions(Particles = 2)).Value) deep "value"
        bothThreads "recursion through Repeat" <| fun () ->
            Expect.equal (valueOf (repeatNested deep)) deep "value"
        bothThreads "recursion through Repeat, Zip and plates" <| fun () ->
            Expect.equal (valueOf (mixed 300_000)) 300_000 "value"
        bothThreads "Repeat of a million steps with binds" <| fun () ->
            let m = Model.Repeat(1_000_000, 0, fun s _ -> Model.Return(s).Bind(fun x -> Model.Return(x + 1)).Bind(fun x -> Model.Return x))
            Expect.equal (valueOf m) 1_000_000 "value"
        bothThreads "Sequence of a million models" <| fun () ->
            let xs = valueOf (ModelQuery.Sequence(Seq.init 1_000_000 (fun i -> Model.Return(i).Bind(fun x -> Model.Return(x + 1)))))
            Expect.equal xs.Count 1_000_000 "count"
            Expect.equal xs.[999_999] 1_000_000 "last value"
        bothThreads "recursion through Sequence" <| fun () ->
            Expect.equal (valueOf (sequenceNested deep)) deep "value"
        bothThreads "plates nested through recursion stop at 64 with a clear error" <| fun () ->
            Expect.equal (valueOf (platesNested 64)) 64 "64 nested plates run"
            let e = caught<InvalidOperationException> (fun () -> valueOf (platesNested deep) |> ignore)
            Expect.stringContains e.Message "at most 64 distinct plates" "message"
        bothThreads "an exception deep inside products and plates propagates intact" <| fun () ->
            let rec failing n : Model<int> =
                if n = 0 then Model.Defer(fun () -> raise (ArgumentException "leaf failed at the bottom"))
                else Model.Zip(Model.Plate("p", 2L, Model.Return 0), Model.Defer(fun () -> failing (n - 1))).Map(fun struct (_, b) -> b)
            let m = Model.Plate("outer", 3L, failing deep)
            let e = caught<ArgumentException> (fun () -> valueOf m |> ignore)
            Expect.equal e.Message "leaf failed at the bottom" "message intact"
            // the model is a value: a second run fails the same way (each run has its own state)
            Expect.throwsT<ArgumentException> (fun () -> valueOf m |> ignore) "throws again"

        testCase "products keep their branches independent, plates their frames" <| fun () ->
            let sample name = Model.Sample(name, Normal(torch.tensor 0.0, torch.tensor 1.0))
            let m =
                Model.Plate("p", 2L, Model.Zip(Model.Zip(sample "a", sample "b"), Model.Plate("q", 3L, sample "c")))
                    .Bind(fun _ -> Model.Repeat(2, 0, fun s t -> sample(sprintf "r%d" t).Map(fun _ -> s + 1)))
                    .Bind(fun n -> Model.Cost("d", torch.tensor(float n)))
            let trace = Interpreter.Sample(m, RunOptions(Seed = 1UL)).Trace
            Expect.equal [ for n in trace.Nodes -> n.Name ] [ "a"; "b"; "c"; "r0"; "r1"; "d" ] "node order"
            Expect.equal [ for n in trace.Nodes -> [ for p in n.Plates -> p.Name ] ]
                [ [ "p" ]; [ "p" ]; [ "p"; "q" ]; []; []; [] ] "plate frames"
            let expected =
                set [ for s in [ "a"; "b"; "c" ] do for n in [ "r0"; "r1"; "d" ] -> s, n
                      yield "r0", "r1"; yield "r0", "d"; yield "r1", "d" ]
            Expect.equal (edges trace) expected "no edge across the branches of a product"
    ]
