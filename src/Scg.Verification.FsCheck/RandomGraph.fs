namespace Scg.Verification

open System
open TorchSharp
open Scg
open Scg.Estimators
open Scg.Verification.PlatedProgram

/// A random plated stochastic computation graph with its exact oracle, usable from F# and C#: it builds its Scg model
/// for any number of particles, gives its exact expected cost J(θ0) and gradient ∇J(θ0), and describes itself
/// (ToString) so that a failing property shows the program.
///
/// The parameters θ are float64 scalars (`CreateParameters`); sites are named "x0", "x1", …, costs "c0", … and
/// observations "o0", … in program order (`SiteNames`, `CostNames`).
[<Sealed>]
type RandomGraph private (program: Program, origin: (int * GeneratorOptions) option) =
    let unrolled = lazy (PlatedOracle.unroll program)
    let truth = lazy (PlatedOracle.platedTruth program unrolled.Value)

    /// The graph of a plated program (F# users may build or transform programs themselves).
    new(program: Program) = RandomGraph(program, None)

    /// The graph that the plated generator draws from `seed` under `options` (deterministic).
    static member FromSeed(seed: int, options: GeneratorOptions) =
        RandomGraph(makeProgramWith options seed, Some (seed, options))

    /// The graph that the plated generator draws from `seed` with the default options.
    static member FromSeed(seed: int) = RandomGraph.FromSeed(seed, GeneratorOptions.Default)

    /// A flat graph (no plates) of the flat generator as a plated program with the same sites, costs and oracle.
    static member OfFlat(graph: FlatGraph.Graph) =
        let form (a: FlatGraph.Affine) = { POut = a.Out; PBias = a.Bias; PTheta = a.Theta; PParents = a.Parents }
        let kind =
            function
            | FlatGraph.Bern a -> PBern (form a)
            | FlatGraph.Cat a -> PCat (form a)
            | FlatGraph.Gauss (m, FlatGraph.ConstScale v, sf) -> PGauss (form m, PConst v, sf)
            | FlatGraph.Gauss (m, FlatGraph.ExpScale a, sf) -> PGauss (form m, PExp (form a), sf)
        let sites = graph.Sites |> Array.mapi (fun i s -> { Id = i; Kind = kind s; Extra = NoExtra; Offsets = [| 0.0 |]; Plates = [] })
        let body =
            graph.Program
            |> List.map (function
                | FlatGraph.SiteStep i -> PSiteN sites.[i]
                | FlatGraph.CostStep c ->
                    let k = graph.Costs.[c]
                    PCostN { CId = c; CPlates = []; S = k.S; Y1 = form k.Y1; Y2 = form k.Y2; Y3 = form k.Y3 })
        RandomGraph({ Theta0 = graph.Theta0; Body = body; Sites = sites; Seed = graph.Seed })

    /// The plated program behind the graph.
    member _.Program = program

    /// The seed and options the graph was drawn from, when the generator drew it (used for shrinking).
    member internal _.Origin = origin

    /// A seed the graph carries for its runs' random generators (drawn with the program).
    member _.Seed = program.Seed

    /// The number of parameters θ.
    member _.ParameterCount = program.P

    /// The parameter values θ0 at which the oracle is evaluated (a copy).
    member _.InitialParameters = Array.copy program.Theta0

    /// The sample sites' names, in program order.
    member _.SiteNames = program.Sites |> Array.map (fun s -> sprintf "x%d" s.Id)

    /// The costs' and observations' names, in program order.
    member _.CostNames = costNames program |> Array.ofList

    /// The sites the library can enumerate (SiteEstimator.Enumerate): discrete, without an extra batch dimension, in
    /// a program without products, every later node inside all the site's plates.
    member _.EnumerableSiteNames =
        program.Sites |> Array.filter (PlatedTransforms.enumerable program) |> Array.map (fun s -> sprintf "x%d" s.Id)

    /// The MaxPlateNesting the graph needs (its deepest plate dim, or −1 for an extra batch dimension).
    member _.PlateNesting = neededNesting program

    /// The number of flat elements (sites × plate and extra elements) the oracle enumerates or integrates.
    member _.ElementCount = unrolled.Value.Flat.Sites.Length

    /// New float64 scalar parameters at θ0, requiring gradients (one per θ coordinate).
    member _.CreateParameters() : torch.Tensor[] = PlatedModel.platedLeaves program |> Array.ofList

    member private g.Check(parameters: torch.Tensor[], particles: int, maxPlateNesting: int) =
        ArgumentNullException.ThrowIfNull parameters
        if parameters.Length <> program.P then
            invalidArg "parameters" (sprintf "The graph has %d parameters, got %d: pass the tensors of CreateParameters()." program.P parameters.Length)
        if particles < 0 then invalidArg "particles" (sprintf "particles must be 0 (no particle dimension) or more, got %d." particles)
        if maxPlateNesting < g.PlateNesting then
            invalidArg "maxPlateNesting" (sprintf "The graph needs MaxPlateNesting ≥ %d (its PlateNesting), got %d." g.PlateNesting maxPlateNesting)

    /// The graph as a Scg model over the given parameters (from CreateParameters), for a run with `particles`
    /// particles (0: none) and RunOptions.MaxPlateNesting = `maxPlateNesting` (at least PlateNesting).
    member g.Model(parameters: torch.Tensor[], particles: int, maxPlateNesting: int) : Model<unit> =
        g.Check(parameters, particles, maxPlateNesting)
        PlatedModel.toPlatedModel program particles maxPlateNesting (List.ofArray parameters)

    /// The graph as a model whose site estimators `estimators` chooses: it gets each site's name and the estimator the
    /// graph would use (SiteEstimator.Auto for a discrete site, Pathwise or ScoreFunction for a Normal one).
    member g.ModelWith(parameters: torch.Tensor[], particles: int, maxPlateNesting: int, estimators: Func<string, SiteEstimator, SiteEstimator>) : Model<unit> =
        g.Check(parameters, particles, maxPlateNesting)
        ArgumentNullException.ThrowIfNull estimators
        let choose (s: PSite) est = estimators.Invoke(sprintf "x%d" s.Id, est)
        PlatedModel.toPlatedModelWith choose program particles maxPlateNesting (List.ofArray parameters)

    /// The exact objective J(θ) = E[Σ costs − Σ log p(observations)] as a differentiable float64 scalar of the
    /// parameter vector θ (shape [ParameterCount]); autograd gives gradients and Hessians.
    member g.Objective(theta: torch.Tensor) : torch.Tensor =
        ArgumentNullException.ThrowIfNull theta
        if theta.shape <> [| int64 program.P |] then
            invalidArg "theta" (sprintf "θ must have shape [%d], got [%s]." program.P (String.Join(", ", theta.shape)))
        PlatedOracle.platedOracle unrolled.Value theta (fun _ -> false) (costNames program)

    /// The exact objective J(θ0).
    member _.ExactObjective = fst truth.Value

    /// The exact gradient ∇θ J(θ0), one entry per parameter (a copy).
    member _.ExactGradient = Array.copy (snd truth.Value)

    /// The graph with its independent products made sequences (a branch never reads the other's sites).
    member _.Sequenced() = RandomGraph(PlatedTransforms.sequenced program)

    /// The graph with every Normal site made a Bernoulli (logit = its mean form) and extra batch dimensions of sites
    /// dropped (products stay); often every site is then enumerable.
    member _.Discretised() = RandomGraph(PlatedTransforms.discretise program)

    /// The gradient of a scalar (a surrogate built from a run of this graph's model) with respect to the parameters,
    /// as doubles; zeros where the scalar does not depend on a parameter (without calling autograd, which would abort
    /// the process in TorchSharp 0.107).
    static member GradientOf(scalar: torch.Tensor, parameters: torch.Tensor[]) : float[] =
        ArgumentNullException.ThrowIfNull scalar
        ArgumentNullException.ThrowIfNull parameters
        if scalar.numel() <> 1L then
            invalidArg "scalar" (sprintf "GradientOf needs a scalar tensor, got shape [%s]: sum it first." (String.Join(", ", scalar.shape)))
        GraphTensors.gradientOf scalar (List.ofArray parameters)

    /// The program, one node a line.
    override _.ToString() = program.ToString()
