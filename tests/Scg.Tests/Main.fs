module Scg.Tests.Main

open System
open Expecto
open Expecto.Impl

[<Tests>]
let smoke = testCase "TorchSharp computes a gradient" <| fun () ->
    let x = TorchSharp.torch.tensor(3.0, requires_grad = true)
    let y = x * x
    y.backward()
    Expect.floatClose Accuracy.veryHigh (x.grad.item<float>()) 6.0 "d(x^2)/dx at 3"

/// The counts of the last run, printed after Expecto has finished writing to the console.
let mutable private counts = None

let private recordCounts (printer: TestPrinters) =
    { printer with
        summary = fun config summary -> async {
            do! printer.summary config summary
            counts <- Some (summary.passed.Length, summary.failed.Length + summary.errored.Length) } }

/// Runs the tests, then prints the plain line CI reads: "N passed, N failed" (errors count as failures).
[<EntryPoint>]
let main argv =
    // Sequenced: TorchSharp 0.107's Scalar is a bare handle with a finalizer that no native call keeps alive, and
    // `a + b` on tensors passes a temporary Scalar (alpha = 1). When another thread triggers a GC during the native
    // call, the finalizer can free that Scalar while libtorch reads it ("Expected false to be true … toDouble", or
    // "Casting complex values to real"). Tests run in parallel made that happen a few times per run; one at a time,
    // no other test thread allocates during a native call. See docs/design.md, "Known TorchSharp hazards".
    let code =
        runTestsInAssemblyWithCLIArgs
            [ CLIArguments.Sequenced; CLIArguments.No_Spinner; CLIArguments.Colours 0; CLIArguments.Printer (recordCounts defaultConfig.printer) ]
            argv
    match counts with
    | Some (passed, failed) ->
        // Expecto replaces Console.Out with a writer that pads lines; write to the raw stream instead.
        Console.Out.Flush()
        use raw = new IO.StreamWriter(Console.OpenStandardOutput())
        raw.Write(sprintf "\n%d passed, %d failed\n" passed failed)
    | None -> ()
    code
