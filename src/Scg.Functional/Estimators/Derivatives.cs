using System;
using System.Collections.Generic;
using System.Linq;
using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>
/// Gradients, Hessians and Hessian-vector products of a scalar (a DiCE surrogate, whose derivatives of every
/// order are unbiased estimates) with respect to a list of parameters, flattened and concatenated in order.
/// Safe to call where <c>torch.autograd.grad</c> itself would terminate the process: a parameter that does not
/// require a gradient is refused with an exception, and parts that do not depend on a parameter are zeros.
/// </summary>
public static class Derivatives
{
    /// <summary>The gradient of <paramref name="scalar"/>, flattened: one entry per parameter element.</summary>
    /// <param name="scalar">A tensor of one element.</param>
    /// <param name="parameters">Tensors that require gradients.</param>
    /// <param name="createGraph">Keep the gradient differentiable (for higher derivatives).</param>
    /// <exception cref="ArgumentException">The scalar has more than one element, or a parameter does not require a gradient.</exception>
    public static Tensor Gradient(Tensor scalar, IReadOnlyList<Tensor> parameters, bool createGraph = false)
    {
        Check(scalar, parameters);
        return Flat(scalar, parameters, createGraph);
    }

    /// <summary>The gradient and the Hessian (n × n, n the number of parameter elements) of <paramref name="scalar"/>.</summary>
    /// <param name="scalar">A tensor of one element, differentiable twice (a DiCE surrogate).</param>
    /// <param name="parameters">Tensors that require gradients.</param>
    /// <exception cref="ArgumentException">The scalar has more than one element, or a parameter does not require a gradient.</exception>
    public static SecondOrder GradientAndHessian(Tensor scalar, IReadOnlyList<Tensor> parameters)
    {
        Check(scalar, parameters);
        var gradient = Flat(scalar, parameters, createGraph: true);
        var n = gradient.shape[0];
        var rows = new Tensor[n];
        var entries = gradient.unbind(0);
        for (var i = 0; i < n; i++) rows[i] = Flat(entries[i], parameters, createGraph: false);
        return new SecondOrder(gradient.detach(), n == 0 ? zeros(0, 0, gradient.dtype, gradient.device) : stack(rows));
    }

    /// <summary>The Hessian-vector product H·v of <paramref name="scalar"/>, without forming H.</summary>
    /// <param name="scalar">A tensor of one element, differentiable twice.</param>
    /// <param name="parameters">Tensors that require gradients.</param>
    /// <param name="vector">A vector with one entry per parameter element.</param>
    /// <exception cref="ArgumentException">As <see cref="Gradient"/>, or the vector has the wrong length.</exception>
    public static Tensor HessianVectorProduct(Tensor scalar, IReadOnlyList<Tensor> parameters, Tensor vector)
    {
        Check(scalar, parameters);
        ArgumentNullException.ThrowIfNull(vector);
        var gradient = Flat(scalar, parameters, createGraph: true);
        if (vector.Dimensions != 1 || vector.shape[0] != gradient.shape[0])
            throw new ArgumentException($"The vector has shape [{string.Join(", ", vector.shape)}]; it needs one entry per parameter element ({gradient.shape[0]}).", nameof(vector));
        return Flat(gradient.mul(vector.detach().to_type(gradient.dtype)).sum(), parameters, createGraph: false);
    }

    private static void Check(Tensor scalar, IReadOnlyList<Tensor> parameters)
    {
        ArgumentNullException.ThrowIfNull(scalar);
        ArgumentNullException.ThrowIfNull(parameters);
        if (scalar.numel() != 1)
            throw new ArgumentException($"Derivatives are taken of a scalar; this tensor has shape [{string.Join(", ", scalar.shape)}].", nameof(scalar));
        for (var i = 0; i < parameters.Count; i++)
        {
            if (parameters[i] is null) throw new ArgumentException($"Parameter {i} is null.", nameof(parameters));
            if (!parameters[i].requires_grad)
                throw new ArgumentException(
                    $"Parameter {i} (shape [{string.Join(", ", parameters[i].shape)}]) does not require a gradient; create it with requires_grad: true.", nameof(parameters));
        }
    }

    /// <summary>∂y/∂parameters, flattened; zeros where y does not depend on a parameter (or on none).</summary>
    private static Tensor Flat(Tensor y, IReadOnlyList<Tensor> parameters, bool createGraph)
    {
        if (parameters.Count == 0) return zeros(0, y.dtype, y.device);
        IList<Tensor?> grads = y.requires_grad
            ? autograd.grad([y], [.. parameters], retain_graph: true, create_graph: createGraph, allow_unused: true)!
            : new Tensor?[parameters.Count];
        var parts = new Tensor[parameters.Count];
        for (var i = 0; i < parts.Length; i++)
        {
            var g = grads[i];
            parts[i] = g is null || g.IsInvalid ? zeros(parameters[i].numel(), y.dtype, y.device) : g.reshape(-1).to_type(y.dtype);
        }
        return cat(parts, 0);
    }
}
