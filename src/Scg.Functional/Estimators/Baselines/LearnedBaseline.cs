using System;
using System.Collections.Generic;
using System.Linq;
using Scg.Tracing;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>A baseline learned by least squares; see <see cref="Baseline.Learned"/>.</summary>
/// <param name="Name">The module's name in the parameter store.</param>
/// <param name="Module">Maps the features to the baseline.</param>
/// <param name="Inputs">The sites whose detached values the baseline reads.</param>
/// <param name="Features">Builds the module's input from the values; concatenation when null.</param>
public sealed record LearnedBaseline(
    string Name, nn.Module<Tensor, Tensor> Module, IReadOnlyList<string> Inputs, Func<IReadOnlyList<Tensor>, Tensor>? Features) : Baseline
{
    internal override Tensor? Compute(BaselineContext context, SampleNode site, Tensor costToGo)
    {
        var values = new Tensor[Inputs.Count];
        for (var i = 0; i < values.Length; i++) values[i] = InputValue(context.Trace, site, Inputs[i]).detach();
        var features = Features is null
            ? cat(values.Select(v => v.to_type(costToGo.dtype)).ToArray(), -1)
            : Features(values) ?? throw new InvalidOperationException($"Learned baseline '{Name}' of sample site '{site.Name}': the features function returned null.");
        var module = context.Trace.Store?.GetOrAddModule(Name, Module) ?? Module;
        var b = module.call(features);
        if (b.Dimensions > 0 && b.shape[^1] == 1) b = b.squeeze(-1);
        var target = CostToGo.AtSiteRank(costToGo, site);
        SurrogateChecks.Baseline(site, b, target.shape, context.Validate);
        context.BaselineLosses.Add(b.sub(target).square().mean());
        return b.detach();
    }

    /// <summary>The value of input <paramref name="name"/>, refused unless it is upstream of <paramref name="site"/>.</summary>
    private TraceNode InputNode(Trace trace, SampleNode site, string name)
    {
        if (!trace.TryGetNode(name, out var node) || node is CostNode)
            throw new ArgumentException(
                $"Learned baseline '{Name}' of sample site '{site.Name}' reads '{name}', which is no sample or observe site of the run.");
        if (ReferenceEquals(node, site) || name == site.Name)
            throw new ArgumentException(
                $"Learned baseline '{Name}' of sample site '{site.Name}' reads '{name}', the site itself: a baseline that depends on " +
                "the site's value biases the gradient. Read only sites recorded before it.");
        if (trace.IsDownstream(site, node))
            throw new ArgumentException(
                $"Learned baseline '{Name}' of sample site '{site.Name}' reads '{name}', which is downstream of '{site.Name}': a baseline " +
                "that depends on the site's value (through its descendants) biases the gradient. Read only sites recorded before it.");
        return node;
    }

    private Tensor InputValue(Trace trace, SampleNode site, string name) => InputNode(trace, site, name) switch
    {
        SampleNode s => s.Value,
        ObserveNode o => o.Value,
        var other => throw new InvalidOperationException($"Unexpected node {other.Name}."),
    };

    /// <inheritdoc />
    public override string ToString() => $"learned '{Name}' from ({string.Join(", ", Inputs)})";
}
