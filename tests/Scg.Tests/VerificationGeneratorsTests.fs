/// The public generator library (src/Scg.Verification.FsCheck) as users see it: the F# property of
/// docs/verification-generators.md, the C# properties of Scg.Tests.CSharp/GeneratorProperties.cs, the generator
/// options and the flat graphs as RandomGraphs.
///
/// Statistics. GradientCheck's z-tests fail a coordinate at |z| ≥ 5 (two-sided 2.5e-5 under the null with 30 runs:
/// Student's t with 29 degrees of freedom, GradientCheck.FalseAlarmRate 30). z-tests that
/// must pass: the docs property, 12 graphs × ≤ 3 coordinates = 36; the C# surrogate property, 8 × 3 = 24; the
/// calibration of the broken estimator against its own expectation, ≤ 6 × 3 = 18. ≤ 78 z-tests: false-alarm rate
/// below 78 × 2.5e-5 ≈ 2e-3 (Bonferroni). The other tests are exact (1e-9) or structural. Seeds are fixed.
module Scg.Tests.VerificationGeneratorsTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open Scg
open Scg.Estimators
open Scg.Tracing
open Scg.Verification
open Scg.Verification.PlatedProgram
open Scg.Tests.CSharp

/// The docs' property config: 12 graphs from a fixed replay seed.
let private docsConfig = { FsCheckConfig.defaultConfig with maxTest = 12; replay = Some (20261125UL, 977UL, None) }

[<Tests>]
let tests =
    testList "VerificationGenerators" [
        // --- the property of docs/verification-generators.md, as written there ---
        testPropertyWithConfig docsConfig "docs: a constant baseline keeps the surrogate's gradient unbiased on random plated graphs" <|
            Prop.forAll (ScgArbitraries.PlatedGraph GeneratorOptions.Small) (fun graph ->
                let mine (trace: Trace) = Surrogate.Build(trace, SurrogateOptions(Baseline = Baseline.Constant 1.0)).Surrogate
                let check = GradientCheck.Run(graph, Func<_, _> mine, runs = 30, particles = 200, seed = graph.Seed)
                Expect.isTrue check.Passed (sprintf "%O\n%O" check graph))

        test "GradientCheck rejects the surrogate without score terms where its bias is visible" {
            // the broken estimator's own expectation is exact (PlatedOracle.noScoreExpect): on graphs where it differs
            // from ∇J by more than 0.3 in some coordinate, the check must reject it, and accept it against its own
            // expectation (calibration)
            let noScore (trace: Trace) = NaiveSurrogate.naiveSurrogate trace None
            let graphs =
                Gen.sampleWithSeed (Rnd(4711UL, 977UL)) 10 200 (Arb.toGen (ScgArbitraries.PlatedGraph GeneratorOptions.Small))
                |> Array.choose (fun g ->
                    let biased = PlatedOracle.noScoreExpect g.Program (PlatedOracle.unroll g.Program)
                    if Array.exists2 (fun a b -> abs (a - b) > 0.3) biased g.ExactGradient then Some (g, biased) else None)
                |> Array.truncate 6
            let results = graphs |> Array.map (fun (g, biased) -> g, biased, GradientCheck.Run(g, Func<_, _> noScore, 30, 200, g.Seed))
            let rejected = results |> Array.filter (fun (_, _, c) -> not c.Passed) |> Array.length
            printfn "VerificationGenerators: no score terms rejected on %d of %d graphs" rejected results.Length
            for (g, biased, c) in results do
                let z = Array.map3 (fun m e s -> if s > 0.0 then abs (m - e) / s else 0.0) c.Mean biased c.StandardError |> Array.max
                Expect.isLessThan z 5.0 (sprintf "the broken estimator estimates its own expectation [%s]: %O\n%O" (Stats.fmt biased) c g)
            Expect.equal results.Length 6 "enough graphs where the score terms matter"
            Expect.isGreaterThanOrEqual (float rejected) (0.8 * float results.Length) "rejected on at least 80% of them"
        }

        // --- C# (Scg.Tests.CSharp/GeneratorProperties.cs, the code of the docs' xunit example) ---
        test "C#: with every site enumerated, a run's cost and gradient equal the oracle (Prop.ForAll over EnumerableGraph)" {
            GeneratorProperties.Check(GeneratorProperties.EnumeratedRunIsExact(), 30, 4049UL)
        }

        test "C#: the default surrogate's mean gradient matches the oracle (Prop.ForAll over PlatedGraph(Small))" {
            GeneratorProperties.Check(GeneratorProperties.SurrogateMatchesOracle(), 8, 515UL)
        }

        // --- options and graphs ---
        test "the default options reproduce the generator of the project's tests; restricted options hold" {
            for seed in 0 .. 49 do
                Expect.equal (string (RandomGraph.FromSeed seed)) (string (makeProgram seed)) "default options"
            let o =
                GeneratorOptions.Default.WithMaxSites(3).WithMaxPlateSize(2).WithSiteKinds(SiteKinds.Bernoulli ||| SiteKinds.Normal)
                    .WithNormalEstimators(NormalEstimators.Pathwise).WithProducts(false).WithObservations(false).WithExtraDimensions(false)
            for seed in 0 .. 199 do
                let g = makeProgramWith o seed
                let nodes = allNodes g.Body
                Expect.isLessThanOrEqual g.Sites.Length 3 "MaxSites"
                for s in g.Sites do
                    match s.Kind with
                    | PCat _ -> failtestf "a Categorical site under SiteKinds.Bernoulli | Normal:\n%O" g
                    | PGauss (_, _, true) -> failtestf "a score-function Normal under NormalEstimators.Pathwise:\n%O" g
                    | _ -> ()
                    Expect.equal s.Extra NoExtra "no extra dimensions"
                for n in nodes do
                    match n with
                    | PZip _ -> failtestf "a product with AllowProducts = false:\n%O" g
                    | PObsN _ -> failtestf "an observation with AllowObservations = false:\n%O" g
                    | PPlate (q, _, _) -> Expect.isLessThanOrEqual q.Size 2 "MaxPlateSize"
                    | _ -> ()
            let only = GeneratorOptions.Default.WithSiteKinds(SiteKinds.Categorical)
            let kinds = [ for seed in 0 .. 99 do for s in (makeProgramWith only seed).Sites -> match s.Kind with PCat _ -> "cat" | _ -> "other" ] |> List.distinct
            Expect.equal kinds [ "cat" ] "SiteKinds.Categorical gives Categorical sites only"
            Expect.throwsC (fun () -> GeneratorOptions.Default.WithMaxPlateSize 1 |> ignore)
                (fun e -> Expect.stringContains e.Message "MaxPlateSize must be at least 2" "the error names the option")
        }

        test "flat graphs as RandomGraphs keep their exact oracle; RandomGraph's members check their arguments" {
            for g in Gen.sampleWithSeed (Rnd(99UL, 977UL)) 10 40 FlatGraph.genGraph do
                let j, gstar = FlatOracle.trueGradient g
                let r = RandomGraph.OfFlat g
                Expect.floatClose Accuracy.veryHigh r.ExactObjective j (sprintf "J\n%O" g)
                for (a, b) in Array.zip r.ExactGradient gstar do Expect.floatClose Accuracy.veryHigh a b (sprintf "∇J\n%O" g)
            let g = RandomGraph.FromSeed 3
            Expect.throwsC (fun () -> g.Model(Array.take 1 (g.CreateParameters()), 0, g.PlateNesting) |> ignore)
                (fun e -> Expect.stringContains e.Message (sprintf "The graph has %d parameters, got 1" g.ParameterCount) "parameter count")
            Expect.throwsC (fun () -> g.Model(g.CreateParameters(), 0, g.PlateNesting - 1) |> ignore)
                (fun e -> Expect.stringContains e.Message "MaxPlateNesting" "nesting")
        }
    ]
