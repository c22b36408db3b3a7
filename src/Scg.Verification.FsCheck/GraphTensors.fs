/// Small tensor helpers shared by the generators and their oracles (float64 throughout).
module Scg.Verification.GraphTensors

open TorchSharp
open Scg

/// TorchSharp's tensor.
type Tensor = TorchSharp.torch.Tensor
/// TorchSharp's dtype.
type ScalarType = TorchSharp.torch.ScalarType

/// A float64 vector of the given values.
let f64 (xs: float[]) = torch.tensor(xs, dtype = ScalarType.Float64)

/// A float64 rows × cols matrix of the given values, row-major.
let mat (xs: float[]) (rows: int) (cols: int) = (f64 xs).reshape(int64 rows, int64 cols)

/// The F# model builder the generated models are written with.
let mb = ModelBuilder()

/// Float64 scalar leaves (requiring gradients) at the given parameter values.
let leavesAt (theta0: float[]) =
    theta0 |> Array.map (fun x -> torch.tensor(x, dtype = ScalarType.Float64, requires_grad = true)) |> List.ofArray

/// Gradient of a scalar tensor with respect to the given leaves, as one flat array of doubles. A scalar that does not
/// require a gradient gets zeros without calling autograd (TorchSharp 0.107 terminates the process, uncatchably,
/// when autograd.grad is asked for the gradient of such a tensor); an unused leaf gets zeros.
let gradientOf (scalar: Tensor) (leaves: Tensor list) =
    if leaves.IsEmpty then [||]
    elif not scalar.requires_grad then [| for p in leaves do yield! Array.zeroCreate<float> (int (p.numel())) |]
    else
    let grads = torch.autograd.grad([| scalar |], (leaves |> Array.ofList), retain_graph = true, allow_unused = true)
    [| for (g, p) in Seq.zip grads leaves do
         // an unused leaf's gradient comes back as null or as a tensor with an empty handle
         let g = if isNull g || g.IsInvalid then torch.zeros_like p else g
         yield! g.to_type(ScalarType.Float64).data<float>().ToArray() |]

/// Value and gradient at θ0 of a scalar function of the stacked parameter vector θ (an exact oracle).
let valueAndGradient (theta0: float[]) (f: Tensor -> Tensor) =
    use scope = torch.NewDisposeScope()
    let leaves = leavesAt theta0
    let j = f (torch.stack(leaves |> Array.ofList))
    j.item<float>(), gradientOf j leaves
