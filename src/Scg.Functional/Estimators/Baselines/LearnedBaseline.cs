using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using Scg.Distributions;
using Scg.Tracing;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>A baseline learned by least squares; see <see cref="Baseline.Learned"/>.</summary>
/// <param name="Name">The module's name in the parameter store.</param>
/// <param name="Module">Maps the features to the baseline.</param>
/// <param name="Inputs">The sites whose detached values the baseline reads.</param>
/// <param name="Features">Builds the module's input from the values; one column per input when null.</param>
public sealed record LearnedBaseline(
    string Name, nn.Module<Tensor, Tensor> Module, IReadOnlyList<string> Inputs, Func<IReadOnlyList<Tensor>, Tensor>? Features) : Baseline
{
    internal override Tensor? Compute(BaselineContext context, SampleNode site, Tensor costToGo)
    {
        var nodes = new TraceNode[Inputs.Count];
        for (var i = 0; i < nodes.Length; i++) nodes[i] = InputNode(context.Trace, site, Inputs[i]);
        var module = context.Trace.Store?.GetOrAddModule(Name, Module) ?? Module;
        var features = Features is null
            ? DefaultFeatures(nodes, FeatureType(module, costToGo.dtype))
            : Features(nodes.Select(n => ValueOf(n).detach()).ToArray())
              ?? throw new InvalidOperationException($"Learned baseline '{Name}' of sample site '{site.Name}': the features function returned null.");
        Tensor b;
        try
        {
            b = module.call(features);
        }
        catch (ExternalException e)
        {
            throw new ArgumentException(
                $"Learned baseline '{Name}' of sample site '{site.Name}': its module failed on features of shape " +
                $"[{Shapes.Format(features.shape)}] ({features.dtype}): {e.Message}. " +
                (Features is null
                    ? "The default features have the inputs' batch dimensions in front and one column per input (event dimensions " +
                      "flattened) last; size the module's input to that, or give a features function."
                    : "Check the features function against the module's input."), e);
        }
        if (b.Dimensions > 0 && b.shape[^1] == 1) b = b.squeeze(-1);
        var target = CostToGo.AtSiteRank(costToGo, site);
        SurrogateChecks.Baseline(site, b, target.shape, context.Validate);
        context.BaselineLosses.Add(b.sub(target).square().mean());
        return b.detach();
    }

    /// <summary>
    /// The inputs' detached values as one tensor: their batch dimensions (broadcast together) in front, then one
    /// column per input (its event dimensions flattened; one column for a scalar event).
    /// </summary>
    private static Tensor DefaultFeatures(TraceNode[] nodes, ScalarType type)
    {
        var batch = Array.Empty<long>();
        foreach (var n in nodes) batch = Shapes.Broadcast(batch, DistributionOf(n).BatchShape);
        var columns = new Tensor[nodes.Length];
        for (var i = 0; i < nodes.Length; i++)
        {
            var d = DistributionOf(nodes[i]);
            var events = d.EventShape;
            long width = 1;
            foreach (var e in events) width *= e;
            columns[i] = ValueOf(nodes[i]).detach().to_type(type)
                .expand(Shapes.Concat(batch, events)).reshape(Shapes.Concat(batch, [width]));
        }
        return columns.Length == 1 ? columns[0] : cat(columns, -1);
    }

    /// <summary>The type of the module's (first) floating-point parameter, so that its input matches; else the cost's.</summary>
    private static ScalarType FeatureType(nn.Module module, ScalarType costType)
    {
        foreach (var p in module.parameters())
            if (is_floating_point(p)) return p.dtype;
        return costType;
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

    private static Tensor ValueOf(TraceNode node) => node switch
    {
        SampleNode s => s.Value,
        ObserveNode o => o.Value,
        var other => throw new InvalidOperationException($"Unexpected node {other.Name}."),
    };

    private static Distribution DistributionOf(TraceNode node) => node switch
    {
        SampleNode s => s.Distribution,
        ObserveNode o => o.Distribution,
        var other => throw new InvalidOperationException($"Unexpected node {other.Name}."),
    };

    /// <inheritdoc />
    public override string ToString() => $"learned '{Name}' from ({string.Join(", ", Inputs)})";
}
