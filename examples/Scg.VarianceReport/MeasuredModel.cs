using System;
using System.Collections.Generic;
using System.Linq;
using Scg.Interpretation;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.VarianceReport;

/// <summary>A named set of parameter tensors whose gradient coordinates are reported together.</summary>
/// <param name="Name">The group's name in the table.</param>
/// <param name="Tensors">The parameters (float32 leaves that require gradients).</param>
internal sealed record ParameterGroup(string Name, Tensor[] Tensors)
{
    /// <summary>The number of gradient coordinates in the group.</summary>
    public int Size => (int)Tensors.Sum(t => t.numel());
}

/// <summary>
/// A model whose gradient estimators the report measures: the Scg model at fixed parameters, its parameter
/// groups, the estimator choices that depend on the model (learned baselines, pathwise sites), and its exact
/// objective, differentiated with autograd to give the exact gradient.
/// </summary>
internal abstract class MeasuredModel
{
    /// <summary>The model's name in the report.</summary>
    public abstract string Title { get; }

    /// <summary>The parameter groups, in the order their coordinates are flattened.</summary>
    public abstract IReadOnlyList<ParameterGroup> Groups { get; }

    /// <summary>The plates the model opens itself (placed right of the particle plate).</summary>
    public abstract int MaxPlateNesting { get; }

    /// <summary>The model at the fixed parameters; built once per estimate, inside the estimate's dispose scope.</summary>
    public abstract Model<Tensor> Build();

    /// <summary>
    /// Learned baselines for every sample site, as run-time overrides, and the modules they train (pre-trained by
    /// the report with the surrogate's baseline loss, at the fixed parameters).
    /// </summary>
    public abstract (EstimatorOverrides Overrides, nn.Module[] Modules) LearnedBaselines();

    /// <summary>The overrides that make every reparameterisable site pathwise, or null when the model has none.</summary>
    public abstract EstimatorOverrides? Pathwise();

    /// <summary>
    /// Configuration (g): the overrides that enumerate the model's discrete sites (all, or as many as is cheap) with
    /// what the other sites use, and a few words saying so.
    /// </summary>
    public abstract (EstimatorOverrides Overrides, string Description) Enumerated();

    /// <summary>What configuration (f) means for this model, or why it does not apply.</summary>
    public abstract string PathwiseNote { get; }

    /// <summary>The exact expected cost, as a differentiable function of float64 copies of the parameters (in group order).</summary>
    protected abstract Tensor ExactObjective(IReadOnlyList<Tensor> parameters);

    /// <summary>All parameters, flattened in group order.</summary>
    public Tensor[] Parameters => Groups.SelectMany(g => g.Tensors).ToArray();

    /// <summary>The total number of gradient coordinates.</summary>
    public int Dimension => Groups.Sum(g => g.Size);

    /// <summary>The exact gradient of the expected cost, flattened in group order.</summary>
    public double[] ExactGradient()
    {
        using var scope = NewDisposeScope();
        var copies = Parameters.Select(p => p.detach().to_type(ScalarType.Float64).requires_grad_(true)).ToArray();
        var objective = ExactObjective(copies);
        var grads = torch.autograd.grad([objective], copies);
        return cat(grads.Select(g => g.reshape(-1)).ToArray()).data<double>().ToArray();
    }

    /// <summary>A float32 leaf that requires gradients, holding <paramref name="values"/>.</summary>
    protected static Tensor Leaf(params float[] values) => tensor(values).requires_grad_(true);

    /// <summary>A float32 scalar leaf that requires gradients.</summary>
    protected static Tensor ScalarLeaf(float value) => tensor(value).requires_grad_(true);
}
