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
/// <param name="Inputs">
/// The sites whose detached values the baseline reads. Inside <see cref="Model.Scope{T}"/> a name is looked up in the
/// site's scopes first, innermost first, then as a full name, so a scoped sub-model can name its own sites.
/// </param>
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

    /// <summary>
    /// The node input <paramref name="name"/> names, looked up as <see cref="Model.Scope{T}"/> names are: first in the
    /// site's innermost scope, then outwards, last as the full name; refused unless it is upstream of <paramref name="site"/>.
    /// </summary>
    private TraceNode InputNode(Trace trace, SampleNode site, string name)
    {
        var node = Resolve(trace, site.Name, name)
            ?? throw new ArgumentException(
                $"Learned baseline '{Name}' of sample site '{site.Name}' reads '{name}', which is no sample or observe site of the run" +
                (site.Name.Contains('/', StringComparison.Ordinal)
                    ? $" (looked up in the site's scopes first: {string.Join(", ", Candidates(site.Name, name).Select(c => $"'{c}'"))})."
                    : "."));
        name = node.Name;
        if (ReferenceEquals(node, site) || name == site.Name)
            throw new ArgumentException(
                $"Learned baseline '{Name}' of sample site '{site.Name}' reads '{name}', the site itself: a baseline that depends on " +
                "the site's value biases the gradient. Read only sites recorded before it.");
        if (trace.IsDownstream(site, node))
            throw new ArgumentException(
                $"Learned baseline '{Name}' of sample site '{site.Name}' reads '{name}', which is downstream of '{site.Name}': a baseline " +
                "that depends on the site's value (through its descendants) biases the gradient. Read only sites recorded before it.");
        if (node is SampleNode { IsEnumerated: true } enumerated && !trace.IsDownstream(enumerated, site))
            throw new ArgumentException(
                $"Learned baseline '{Name}' of sample site '{site.Name}' reads '{name}', an enumerated site in another branch of an " +
                $"independent product: its value is its whole support, one value per enumerated branch, and '{site.Name}', not " +
                $"downstream of it, has no such branches to match. Read '{name}' only for sites downstream of it.");
        return node;
    }

    /// <summary>The first sample or observe node among <see cref="Candidates"/>; null when none is.</summary>
    private static TraceNode? Resolve(Trace trace, string siteName, string name)
    {
        foreach (var candidate in Candidates(siteName, name))
            if (trace.TryGetNode(candidate, out var node) && node is not CostNode) return node;
        return null;
    }

    /// <summary>
    /// <paramref name="name"/> prefixed with each scope of <paramref name="siteName"/>, innermost first, then as given:
    /// for site <c>a/b/y</c> and input <c>x</c>, <c>a/b/x</c>, <c>a/x</c>, <c>x</c>.
    /// </summary>
    private static IEnumerable<string> Candidates(string siteName, string name)
    {
        for (var end = siteName.LastIndexOf('/'); end > 0; end = siteName.LastIndexOf('/', end - 1))
            yield return string.Concat(siteName.AsSpan(0, end + 1), name);
        yield return name;
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
