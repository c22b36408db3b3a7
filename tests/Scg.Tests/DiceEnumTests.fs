/// DiCE on random plated graphs that mix enumerated, score-function and pathwise sites: the Hessian of the DiCE
/// surrogate passes the z-test against the autograd Hessian of the exact oracle. Generator and enumeration choice:
/// RandomPlatedEnumTests.fs; false-alarm rate: tests/README.md.
module Scg.Tests.DiceEnumTests

open System
open Expecto
open TorchSharp
open Scg.Estimators
open Scg.Interpretation
open Scg.Verification.FlatGraph
open Scg.Verification.FlatOracle
open Scg.Tests.RandomScgTests
open Scg.Verification.PlatedProgram
open Scg.Verification.PlatedModel
open Scg.Verification.PlatedOracle
open Scg.Verification.NaiveSurrogate
open Scg.Verification.PlatedTransforms
open Scg.Tests.RandomPlatedEnumTests

let private hessianOf s leaves = snd (Scg.Tests.DiceTests.gradHess s leaves)

[<Tests>]
let tests =
    testList "DiCE with enumeration" [
        test "random plated graphs mixing enumerated, score-function and pathwise sites: the DiCE Hessian matches the oracle's" {
            let programs =
                sample 7121UL 400
                |> Array.filter (fun g ->
                    let chosen = mixedChoice g
                    not chosen.IsEmpty && chosen.Count < g.Sites.Length && (unroll g).Flat.Sites.Length <= 12)
                |> Array.truncate 6
            printfn "DiCE with enumeration: %d programs, %d with an independent product" programs.Length (programs |> Array.filter hasZip |> Array.length)
            let failures =
                [ for g in programs do
                    let leaves = platedLeaves g
                    let hstar = hessianOf (platedOracle (unroll g) (torch.stack(Array.ofList leaves)) (fun _ -> false) (costNames g)) leaves
                    let nesting = neededNesting g
                    let m = modelWith (mixedChoice g) g 200 nesting leaves
                    use gen = new torch.Generator(g.Seed, torch.CPU)
                    let chunks =
                        Array.init 25 (fun _ ->
                            use scope = torch.NewDisposeScope()
                            let trace = Interpreter.Sample(m, RunOptions(Generator = gen, Particles = 200, MaxPlateNesting = nesting)).Trace
                            hessianOf (Dice.Build(trace).Surrogate) leaves)
                    let z = zOf chunks hstar
                    if not (z < Stats.zBound) then
                        yield sprintf "max |z| = %.2f: mean %s vs exact %s\n%O" z (Stats.fmt (Stats.estimate chunks).Mean) (Stats.fmt hstar) g ]
            Expect.equal programs.Length 6 "enough programs"
            if not failures.IsEmpty then failtestf "%d of %d graphs:\n%s" failures.Length programs.Length (String.Join("\n\n", failures))
        }
    ]
