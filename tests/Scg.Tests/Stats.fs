/// Shared helpers for statistical tests: repeated gradient estimates and z-tests against exact values.
module Scg.Tests.Stats

open System
open TorchSharp
type Tensor = TorchSharp.torch.Tensor
type Generator = TorchSharp.torch.Generator
type ScalarType = TorchSharp.torch.ScalarType

/// Per-coordinate mean and standard error of N estimate vectors.
type Estimate = { Mean: float[]; StdErr: float[]; N: int }

let estimate (samples: float[][]) =
    let n = samples.Length
    let d = samples.[0].Length
    let mean = Array.init d (fun j -> samples |> Array.averageBy (fun s -> s.[j]))
    let se =
        Array.init d (fun j ->
            let v = samples |> Array.sumBy (fun s -> (s.[j] - mean.[j]) ** 2.0)
            sqrt (v / float (n - 1)) / sqrt (float n))
    { Mean = mean; StdErr = se; N = n }

/// z-scores of the estimate against exact values. A coordinate whose standard error is 0 gets z = 0 when the
/// mean equals the exact value to 1e-9 (relative), otherwise infinity.
let zScores (e: Estimate) (exact: float[]) =
    Array.init exact.Length (fun j ->
        let diff = e.Mean.[j] - exact.[j]
        if e.StdErr.[j] > 0.0 then diff / e.StdErr.[j]
        elif abs diff <= 1e-9 * (1.0 + abs exact.[j]) then 0.0
        else infinity)

/// The bound on |z| used across the suite: |z| > 5 has two-sided probability 5.7e-7 per coordinate under the
/// null, so even thousands of coordinates keep the suite-wide false-alarm rate below 1e-3 (Bonferroni).
let zBound = 5.0

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
