module Scg.Tests.Main

open Expecto

[<Tests>]
let smoke = testCase "TorchSharp computes a gradient" <| fun () ->
    let x = TorchSharp.torch.tensor(3.0, requires_grad = true)
    let y = x * x
    y.backward()
    Expect.floatClose Accuracy.veryHigh (x.grad.item<float>()) 6.0 "d(x^2)/dx at 3"

[<EntryPoint>]
let main argv = runTestsInAssemblyWithCLIArgs [] argv
