namespace Scg.Verification

open System
open FsCheck
open FsCheck.FSharp
open Scg.Verification.PlatedProgram
open Scg.Verification.GuidedPrograms

/// FsCheck arbitraries of random stochastic computation graphs with exact oracles, for F# (Expecto, FsCheck) and C#
/// (xunit with FsCheck's `Prop.ForAll(arbitrary, …)`). Every graph is drawn from a seed, so FsCheck's replay seed
/// fixes the graphs; shrinking redraws a failing graph's seed under smaller size options (fewer nodes and sites).
[<AbstractClass; Sealed>]
type ScgArbitraries =
    static member private Shrink(g: RandomGraph) : seq<RandomGraph> =
        match g.Origin with
        | None -> Seq.empty
        | Some (seed, o) ->
            seq {
                if o.MaxNodes > 2 then yield RandomGraph.FromSeed(seed, o.WithMaxNodes(o.MaxNodes / 2))
                if o.MaxSites > 1 then yield RandomGraph.FromSeed(seed, o.WithMaxSites(o.MaxSites - 1))
                if o.MaxPlateDepth > 1 then yield RandomGraph.FromSeed(seed, o.WithMaxPlateDepth 1)
            }

    /// Generated plated graphs under the given options (see GeneratorOptions).
    static member PlatedGraphGen(options: GeneratorOptions) : Gen<RandomGraph> =
        Gen.choose (0, Int32.MaxValue) |> Gen.map (fun seed -> RandomGraph.FromSeed(seed, options))

    /// Plated graphs under the given options: plates (nested, siblings, reopened, explicit dims), independent
    /// products, Bernoulli, Categorical and Normal sites (pathwise or score function), costs and observations.
    static member PlatedGraph(options: GeneratorOptions) : Arbitrary<RandomGraph> =
        Arb.fromGenShrink (ScgArbitraries.PlatedGraphGen options, ScgArbitraries.Shrink)

    /// Plated graphs with the default options (the graphs of Scg's own tests).
    static member PlatedGraph() : Arbitrary<RandomGraph> = ScgArbitraries.PlatedGraph GeneratorOptions.Default

    /// Flat graphs (no plates, 1–6 sites, 1–4 costs at random points of the program) as RandomGraphs.
    static member FlatGraph() : Arbitrary<RandomGraph> = Arb.fromGen (FlatGraph.genGraph |> Gen.map RandomGraph.OfFlat)

    /// Graphs whose every site the library can enumerate, with at most `maxDiscreteBits` binary digits of discrete
    /// elements (≤ 16): plated graphs under `options` taken through `Discretised()` and kept when every site is
    /// enumerable. With every site enumerated a run's surrogate cost and gradient are exact, so deterministic
    /// properties (no false alarms) can compare them with the oracle.
    static member EnumerableGraph(options: GeneratorOptions, maxDiscreteBits: float) : Arbitrary<RandomGraph> =
        if maxDiscreteBits < 0.0 || maxDiscreteBits > 16.0 then
            invalidArg "maxDiscreteBits" (sprintf "maxDiscreteBits must lie in [0, 16], got %g." maxDiscreteBits)
        ScgArbitraries.PlatedGraphGen options
        |> Gen.map (fun g -> g.Discretised())
        |> Gen.filter (fun g -> PlatedTransforms.allEnumerable g.Program && PlatedTransforms.discreteBits g.Program <= maxDiscreteBits)
        |> Arb.fromGen

    /// Graphs whose every site the library can enumerate (default options, ≤ 12 binary digits).
    static member EnumerableGraph() : Arbitrary<RandomGraph> = ScgArbitraries.EnumerableGraph(GeneratorOptions.Default, 12.0)

    /// Guided programs (a guide and a model over the same latents, Guided.Pair) of the given mode: ElboMode (Bernoulli,
    /// Categorical and Normal latents, global or in a plate), SubsampleMode (the plate subsampled), IwaeMode (discrete
    /// latents for Iwae.Build with K = 2). Their exact oracles are GuidedOracle.negElbo and GuidedOracle.negIwae2.
    static member GuidedProgram(mode: GMode) : Arbitrary<GuidedProgram> =
        Gen.choose (0, Int32.MaxValue) |> Gen.map (makeGuided mode) |> Arb.fromGen
