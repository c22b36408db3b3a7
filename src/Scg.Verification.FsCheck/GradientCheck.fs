namespace Scg.Verification

open System
open TorchSharp
open Scg
open Scg.Interpretation
open Scg.Tracing

/// The outcome of a gradient check: an estimator's mean gradient over independent runs against the exact gradient.
type GradientCheckResult =
    { /// The exact gradient ∇J(θ0).
      Exact: float[]
      /// The mean of the estimates, per parameter.
      Mean: float[]
      /// The standard error of the mean, per parameter.
      StandardError: float[]
      /// (mean − exact) / standard error per parameter; 0 where the mean equals the exact value to 1e-9 (relative).
      ZScores: float[]
      /// The largest |z| over the parameters.
      MaxAbsZ: float
      /// The number of runs.
      Runs: int }

    /// True when every |z| < GradientCheck.ZBound.
    member r.Passed = r.MaxAbsZ < 5.0

    /// Mean, exact value, standard error and z per parameter.
    override r.ToString() =
        let f (xs: float[]) = String.Join(", ", xs |> Array.map (sprintf "%.4g"))
        sprintf "mean [%s] vs exact [%s] (se [%s]), max |z| = %.2f over %d runs" (f r.Mean) (f r.Exact) (f r.StandardError) r.MaxAbsZ r.Runs

/// z-tests of a gradient estimator against a random graph's exact gradient.
///
/// False alarms: an unbiased estimator fails a coordinate when |z| ≥ ZBound = 5. The standard error is estimated from
/// the same runs, so for estimates close to normal (each a mean over K particles) |z| follows Student's t with runs − 1
/// degrees of freedom: two-sided probability GradientCheck.FalseAlarmRate runs, 2.5e-5 for 30 runs, 2.5e-6 for 100,
/// 5.7e-7 in the limit of many. A property over N graphs with P ≤ 3 parameters each raises a false alarm with
/// probability below 3 N × FalseAlarmRate runs (Bonferroni): 7.6e-3 for 100 graphs of 30 runs.
[<AbstractClass; Sealed>]
type GradientCheck =
    /// The bound on |z| per coordinate: 5.
    static member ZBound = 5.0

    /// The two-sided probability that an unbiased estimator's |z| reaches ZBound in one coordinate, in the limit of
    /// many runs (the normal's tail): 5.7e-7. With few runs it is higher: see FalseAlarmRate.
    static member FalseAlarmPerCoordinate = 5.7e-7

    /// The two-sided probability that an unbiased estimator's |z| reaches ZBound in one coordinate of a check with
    /// `runs` runs (Student's t with runs − 1 degrees of freedom): 2.5e-5 for 30 runs, 1.25e-5 for 40, 2.5e-6 for 100.
    static member FalseAlarmRate(runs: int) =
        if runs < 2 then invalidArg "runs" (sprintf "A z-test needs at least 2 runs, got %d." runs)
        2.0 * Scg.Verification.Checks.StudentT.UpperTail(GradientCheck.ZBound, float (runs - 1))

    /// Draws `runs` independent runs of the graph with `particles` particles (a generator seeded with `seed`), takes
    /// the gradient of `surrogate`'s scalar for each run, and compares the mean with the exact gradient.
    static member Run(graph: RandomGraph, surrogate: Func<Trace, torch.Tensor>, runs: int, particles: int, seed: uint64) : GradientCheckResult =
        ArgumentNullException.ThrowIfNull graph
        ArgumentNullException.ThrowIfNull surrogate
        if runs < 2 then invalidArg "runs" (sprintf "A z-test needs at least 2 runs, got %d (30 or more; GradientCheck.FalseAlarmRate runs gives the rate)." runs)
        let leaves = graph.CreateParameters()
        let nesting = graph.PlateNesting
        let model = graph.Model(leaves, particles, nesting)
        use gen = new torch.Generator(seed, torch.CPU)
        let samples =
            Array.init runs (fun r ->
                use scope = torch.NewDisposeScope()
                let trace = Interpreter.Sample(model, RunOptions(Generator = gen, Particles = particles, MaxPlateNesting = nesting)).Trace
                let s = surrogate.Invoke trace
                if isNull s then invalidOp (sprintf "The surrogate returned null in run %d: return a scalar tensor." r)
                if s.numel() <> 1L then
                    invalidOp (sprintf "The surrogate must be a scalar tensor, got shape [%s] in run %d: sum it first." (String.Join(", ", s.shape)) r)
                GraphTensors.gradientOf s (List.ofArray leaves))
        let exact = graph.ExactGradient
        let d = exact.Length
        let mean = Array.init d (fun j -> samples |> Array.averageBy (fun s -> s.[j]))
        let se =
            Array.init d (fun j ->
                let v = samples |> Array.sumBy (fun s -> (s.[j] - mean.[j]) ** 2.0)
                sqrt (v / float (runs - 1)) / sqrt (float runs))
        let z =
            Array.init d (fun j ->
                let diff = mean.[j] - exact.[j]
                if abs diff <= 1e-9 * (1.0 + abs exact.[j]) then 0.0
                elif se.[j] > 0.0 then diff / se.[j]
                else infinity)
        { Exact = exact; Mean = mean; StandardError = se; ZScores = z
          MaxAbsZ = (if d = 0 then 0.0 else z |> Array.map abs |> Array.max); Runs = runs }
