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
    /// <summary>The store's named parameters after creating the model's (a run without gradients).</summary>
    public static IReadOnlyList<KeyValuePair<string, Tensor>> Of<T>(Model<T> model, ParamStore store)
    {
        store.Initialize(model);
        return [.. store.Named.Select(p => new KeyValuePair<string, Tensor>(p.Key, p.Value))];
    }

    /// <summary>Labels for every element, in order.</summary>
    public static ImmutableArray<(string Name, long Index, string Label)> Labels(IReadOnlyList<KeyValuePair<string, Tensor>> parameters)
    {
        var labels = ImmutableArray.CreateBuilder<(string, long, string)>();
        foreach (var (name, leaf) in parameters)
        {
            var n = leaf.numel();
            for (var i = 0L; i < n; i++) labels.Add((name, i, n == 1 ? name : $"{name}[{i}]"));
        }
        return labels.ToImmutable();
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
