using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Scg.Interpretation;
using static TorchSharp.torch;

namespace Scg.Verification;

/// <summary>Which tensors the checks differentiate with respect to, and how their elements are labelled.</summary>
internal static class Parameters
{
    /// <summary>
    /// The store's named parameters, then every trainable parameter of its modules (named module.parameter, as
    /// <c>named_parameters</c> gives them), after creating the model's (a run without gradients). A tensor reachable
    /// under two names (one module registered by two <see cref="Model.Scope{T}"/>s) is listed once, under its first
    /// name, so that each parameter is one z-test.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, Tensor>> Of<T>(Model<T> model, ParamStore store)
    {
        store.Initialize(model);
        var named = store.Named.Select(p => new KeyValuePair<string, Tensor>(p.Key, p.Value));
        var inModules = store.Modules.SelectMany(m => m.Value.named_parameters()
            .Where(p => p.parameter.requires_grad)
            .Select(p => new KeyValuePair<string, Tensor>($"{m.Key}.{p.name}", p.parameter)));
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        return [.. named.Concat(inModules).Where(p => seen.Add(p.Value))];
    }

    /// <summary>
    /// Refuses an empty list of parameters: a check over no parameter tests nothing, and would pass.
    /// </summary>
    public static void RequireSome(IReadOnlyList<KeyValuePair<string, Tensor>> parameters, string who)
    {
        if (parameters.Sum(p => p.Value.numel()) == 0)
            throw new ArgumentException(
                $"{who}: the model has no parameter to differentiate (no Model.Param or Model.Module parameter, or only empty ones), so " +
                "there would be nothing to check. Create the parameters with Model.Param or Model.Module, or name the tensors the model " +
                "closes over in CheckOptions.Parameters (created with requires_grad: true).", nameof(parameters));
    }

    /// <summary>Labels for every element, in order: the name alone for one element, else name[i, j, …] (row-major).</summary>
    public static ImmutableArray<(string Name, long Index, string Label)> Labels(IReadOnlyList<KeyValuePair<string, Tensor>> parameters)
    {
        var labels = ImmutableArray.CreateBuilder<(string, long, string)>();
        foreach (var (name, leaf) in parameters)
        {
            var n = leaf.numel();
            var shape = leaf.shape;
            for (var i = 0L; i < n; i++) labels.Add((name, i, n == 1 ? name : $"{name}[{Index(shape, i)}]"));
        }
        return labels.ToImmutable();
    }

    /// <summary>The row-major multi-index of flat position <paramref name="flat"/> in <paramref name="shape"/>, as "i, j, …".</summary>
    private static string Index(long[] shape, long flat)
    {
        var index = new long[shape.Length];
        for (var d = shape.Length - 1; d >= 0; d--)
        {
            index[d] = flat % shape[d];
            flat /= shape[d];
        }
        return string.Join(", ", index);
    }

    /// <summary>Numbers attached to the elements, in order.</summary>
    public static ImmutableArray<ParameterElement> Flatten(IReadOnlyList<KeyValuePair<string, Tensor>> parameters, double[] values)
    {
        var labels = Labels(parameters);
        if (labels.Length != values.Length)
            throw new InvalidOperationException($"{values.Length} numbers for {labels.Length} parameter elements.");
        return [.. labels.Select((l, i) => new ParameterElement(l.Name, l.Index, l.Label, values[i]))];
    }

    /// <summary>Checks that every leaf requires a gradient, naming the one that does not.</summary>
    public static void RequireLeaves(IReadOnlyList<KeyValuePair<string, Tensor>> parameters)
    {
        foreach (var (name, leaf) in parameters)
        {
            if (leaf is null) throw new ArgumentException($"Parameter '{name}' is null.", nameof(parameters));
            if (!leaf.requires_grad)
                throw new ArgumentException($"Parameter '{name}' does not require a gradient; create it with requires_grad: true.", nameof(parameters));
        }
    }
}
