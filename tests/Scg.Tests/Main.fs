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
    let code = runTestsInAssemblyWithCLIArgs [ CLIArguments.No_Spinner; CLIArguments.Colours 0; CLIArguments.Printer (recordCounts defaultConfig.printer) ] argv
    match counts with
    | Some (passed, failed) ->
        // Expecto replaces Console.Out with a writer that pads lines; write to the raw stream instead.
        Console.Out.Flush()
        use raw = new IO.StreamWriter(Console.OpenStandardOutput())
        raw.Write(sprintf "\n%d passed, %d failed\n" passed failed)
    | None -> ()
    code
