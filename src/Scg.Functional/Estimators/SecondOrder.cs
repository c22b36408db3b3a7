using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>A gradient and a Hessian, flattened over a list of parameters (<see cref="Derivatives.GradientAndHessian"/>).</summary>
/// <param name="Gradient">The gradient: one entry per parameter element, in order; detached.</param>
/// <param name="Hessian">The n × n matrix of second derivatives; detached.</param>
public sealed record SecondOrder(Tensor Gradient, Tensor Hessian);
