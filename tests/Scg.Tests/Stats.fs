/// Shared helpers for statistical tests: repeated gradient estimates and z-tests against exact values.
module Scg.Tests.Stats

open System
open TorchSharp
type Tensor = TorchSharp.torch.Tensor
type Generator = TorchSharp.torch.Generator
type ScalarType = TorchSharp.torch.ScalarType

/// Per-coordinate mean and standard error of N estimate vectors.
type Estimate = { Mean: float[]; StdErr: float[]; N: int }

/// The public verification API's summary (Scg.Verification.Checks.SampleSummary), as the suite's record.
let estimate (samples: float[][]) =
    let s = Scg.Verification.Checks.SampleSummary.Of(samples)
    { Mean = Array.ofSeq s.Mean; StdErr = Array.ofSeq s.StandardError; N = s.N }

/// z-scores of the estimate against exact values (SampleSummary.ZScores). A coordinate whose standard error is 0 gets
/// z = 0 when the mean equals the exact value to 1e-9 (relative), otherwise infinity.
let zScores (e: Estimate) (exact: float[]) =
    let variance = e.StdErr |> Array.map (fun se -> se * se * float e.N)
    let summary = Scg.Verification.Checks.SampleSummary(System.Collections.Immutable.ImmutableArray.Create<float>(e.Mean),
                                                        System.Collections.Immutable.ImmutableArray.Create<float>(variance), e.N)
    summary.ZScores(exact) |> Array.ofSeq

/// The bound on |z| used across the suite: |z| > 5 has two-sided probability 5.7e-7 per coordinate under the null in
/// the limit of many runs, 2.5e-5 with 30 and 1.25e-5 with 40 (Student's t); tests/README.md, "False alarms", adds
/// up the suite's share.
let zBound = 5.0

/// The normal's two-sided tail at zBound (Scg.Verification.Checks.StandardNormal): 5.7e-7, the per-coordinate rate of a
/// z-test with many runs (with M runs it is Student's t's, higher: GradientCheck.FalseAlarmRate M; tests/README.md). A
/// test that runs EstimatorCheck over m coordinates passes m × perCoordinateRate: EstimatorCheck's bound is the t
/// quantile for its N at that rate, so those tests hold it exactly.
let perCoordinateRate = 2.0 * Scg.Verification.Checks.StandardNormal.UpperTail zBound

let maxAbsZ (e: Estimate) (exact: float[]) = zScores e exact |> Array.map abs |> Array.max

/// Gradient of a scalar tensor with respect to the given leaves, as one flat array of doubles (zeros, without calling
/// autograd, for a scalar that needs no gradient: Scg.Verification.GraphTensors.gradientOf).
let gradOf (scalar: Tensor) (leaves: Tensor list) = Scg.Verification.GraphTensors.gradientOf scalar leaves

/// N gradient estimates: each call of `surrogate` must build a fresh surrogate scalar from a new run.
let gradients (n: int) (leaves: Tensor list) (surrogate: int -> Tensor) =
    Array.init n (fun i ->
        use scope = torch.NewDisposeScope()
        gradOf (surrogate i) leaves)

let fmt (xs: float[]) = xs |> Array.map (sprintf "%.4g") |> String.concat ", "
