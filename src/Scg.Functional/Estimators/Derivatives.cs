using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>
/// Gradients, Hessians and Hessian-vector products of a scalar (a DiCE surrogate, whose derivatives of every
/// order are unbiased estimates) with respect to a list of parameters, flattened and concatenated in order.
/// Safe to call where <c>torch.autograd.grad</c> itself would terminate the process: a parameter that does not
/// require a gradient, or a graph freed by an earlier <c>backward()</c>, is refused with an exception, and parts
/// that do not depend on a parameter are zeros. The parameters' <c>.grad</c> are left untouched.
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

    /// <summary>
    /// ∂y/∂parameters, flattened; zeros where y does not depend on a parameter (or on none). Computed with
    /// <c>backward(inputs: parameters)</c>, whose native errors TorchSharp turns into exceptions (a graph freed by an
    /// earlier backward would make <c>torch.autograd.grad</c> terminate the process); the parameters' own
    /// <c>.grad</c> are left as they were.
    /// </summary>
    private static Tensor Flat(Tensor y, IReadOnlyList<Tensor> parameters, bool createGraph)
    {
        var sizes = parameters.Select(p => p.numel()).ToArray();
        if (parameters.Count == 0 || !y.requires_grad) return zeros(sizes.Sum(), y.dtype, y.device);
        var saved = new Tensor?[parameters.Count];
        for (var i = 0; i < saved.Length; i++)
        {
            saved[i] = parameters[i].grad;
            parameters[i].grad = null;
        }
        try
        {
            try
            {
                y.backward(grad_tensors: null, retain_graph: true, create_graph: createGraph, inputs: [.. parameters]);
            }
            catch (ExternalException e) when (e.Message.Contains("second time", StringComparison.Ordinal) || e.Message.Contains("freed", StringComparison.Ordinal))
            {
                throw new InvalidOperationException(
                    "The autograd graph behind this scalar was freed by an earlier backward() or torch.autograd.grad (which free it " +
                    "unless retain_graph: true). Build the surrogate again from a new run, or build a separate one (Dice.Build) before " +
                    "calling backward() on the first.", e);
            }
            var parts = new Tensor[parameters.Count];
            for (var i = 0; i < parts.Length; i++)
                parts[i] = parameters[i].grad is { } g ? g.reshape(-1).to_type(y.dtype) : zeros(sizes[i], y.dtype, y.device);
            return cat(parts, 0);
        }
        finally
        {
            for (var i = 0; i < saved.Length; i++) parameters[i].grad = saved[i];
        }
    }
}
