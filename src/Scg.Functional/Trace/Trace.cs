using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;

namespace Scg.Tracing;

/// <summary>
/// The immutable record of one run of a model: its nodes in program order, the plates they ran in, and the
/// dependency edges (a node is downstream of every sample site recorded before it, except across the branches
/// of an independent product; inside a plate, element i of a site reaches only element i of the plate's nodes).
/// </summary>
public sealed class Trace
{
    private readonly Dictionary<string, TraceNode> byName;

    internal Trace(ImmutableArray<TraceNode> nodes, ImmutableArray<PlateFrame> plates, TraceBlock root, bool validated)
    {
        Validated = validated;
        Nodes = nodes;
        Plates = plates;
        Root = root;
        byName = new Dictionary<string, TraceNode>(nodes.Length, StringComparer.Ordinal);
        foreach (var n in nodes)
            if (n is not ParamNode) byName[n.Name] = n;
    }

    /// <summary>All nodes in program order.</summary>
    public ImmutableArray<TraceNode> Nodes { get; }

    /// <summary>Every plate opened during the run.</summary>
    public ImmutableArray<PlateFrame> Plates { get; }

    internal TraceBlock Root { get; }

    /// <summary>The parameter store of the run (where baselines keep their state).</summary>
    internal Interpretation.ParamStore? Store { get; init; }

    /// <summary>True when the run was given its store (<c>RunOptions.Params</c>) rather than a fresh one.</summary>
    internal bool StoreGiven { get; init; }

    /// <summary>True when some sample site was enumerated (<see cref="SampleNode.IsEnumerated"/>).</summary>
    public bool HasEnumeration { get; init; }

    /// <summary>
    /// The plate nesting the run placed its particle and enumeration dimensions by (<c>RunOptions.MaxPlateNesting</c>,
    /// given or measured), or null when it needed none. Training loops reuse it to skip the measuring run.
    /// </summary>
    public int? PlateNesting { get; init; }

    /// <summary>True when the run checked its arguments (<c>RunOptions.ValidateArguments</c>).</summary>
    public bool Validated { get; }

    /// <summary>True when the run contained an independent product (<c>Model.Zip</c>).</summary>
    internal bool HasProducts => Root.Items.Exists(i => i.IsProduct);

    /// <summary>The sample sites in program order.</summary>
    public IEnumerable<SampleNode> Samples => Nodes.OfType<SampleNode>();

    /// <summary>The observations in program order.</summary>
    public IEnumerable<ObserveNode> Observations => Nodes.OfType<ObserveNode>();

    /// <summary>The cost nodes in program order.</summary>
    public IEnumerable<CostNode> Costs => Nodes.OfType<CostNode>();

    /// <summary>The parameters read during the run.</summary>
    public IEnumerable<ParamNode> Params => Nodes.OfType<ParamNode>();

    /// <summary>The number of vectorised particles, or 1 when the run had no particle plate.</summary>
    public long ParticleCount => Plates.FirstOrDefault(p => p.IsParticles)?.Size ?? 1;

    /// <summary>The particle plate, if the run was vectorised over particles.</summary>
    public PlateFrame? ParticlePlate => Plates.FirstOrDefault(p => p.IsParticles);

    /// <summary>The sample, observe or cost node with this name.</summary>
    /// <param name="name">The node's name.</param>
    /// <exception cref="KeyNotFoundException">No such node.</exception>
    public TraceNode this[string name] =>
        byName.TryGetValue(name, out var n) ? n : throw new KeyNotFoundException($"The trace has no site named '{name}'.");

    /// <summary>The sample site called <paramref name="name"/>.</summary>
    /// <param name="name">The site's name.</param>
    /// <exception cref="KeyNotFoundException">No node has that name, or the node is not a sample site.</exception>
    public SampleNode Sample(string name) => Lookup<SampleNode>(name, "a sample site");

    /// <summary>The observation called <paramref name="name"/>.</summary>
    /// <param name="name">The observation's name.</param>
    /// <exception cref="KeyNotFoundException">No node has that name, or the node is not an observation.</exception>
    public ObserveNode Observation(string name) => Lookup<ObserveNode>(name, "an observation");

    /// <summary>The cost node called <paramref name="name"/>.</summary>
    /// <param name="name">The cost's name.</param>
    /// <exception cref="KeyNotFoundException">No node has that name, or the node is not a cost.</exception>
    public CostNode Cost(string name) => Lookup<CostNode>(name, "a cost");

    private TNode Lookup<TNode>(string name, string kind) where TNode : TraceNode
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!byName.TryGetValue(name, out var node))
            throw new KeyNotFoundException($"The trace has no node named '{name}' (looking for {kind}).{ScopedNames.Hint(name, byName.Keys)}");
        return node as TNode ?? throw new KeyNotFoundException(
            $"'{name}' in the trace is {KindOf(node)}, not {kind}.");
    }

    private static string KindOf(TraceNode node) => node switch
    {
        SampleNode => "a sample site",
        ObserveNode => "an observation",
        CostNode => "a cost",
        _ => node.GetType().Name,
    };

    /// <summary>Looks a sample, observe or cost node up by name.</summary>
    /// <param name="name">The node's name.</param>
    /// <param name="node">The node, when found.</param>
    public bool TryGetNode(string name, out TraceNode node) => byName.TryGetValue(name, out node!);

    /// <summary>
    /// True when <paramref name="node"/> is downstream of the sample site <paramref name="site"/>: it was
    /// recorded after the site and not in a different branch of an independent product.
    /// </summary>
    /// <param name="site">The upstream sample site.</param>
    /// <param name="node">Any node of this trace.</param>
    public bool IsDownstream(SampleNode site, TraceNode node)
    {
        ArgumentNullException.ThrowIfNull(site);
        ArgumentNullException.ThrowIfNull(node);
        return node.Index > site.Index && !BranchPath.Separated(site.Branch, node.Branch);
    }

    /// <summary>The sample sites that <paramref name="node"/> depends on (its stochastic ancestors).</summary>
    /// <param name="node">A node of this trace.</param>
    public IEnumerable<SampleNode> ParentsOf(TraceNode node) =>
        Samples.Where(s => IsDownstream(s, node));

    /// <summary>
    /// Every edge from a sample site to a downstream sample, observe or cost node. Quadratic in the number of
    /// nodes: meant for inspection and printing, not for estimators.
    /// </summary>
    public IEnumerable<(SampleNode From, TraceNode To)> Edges =>
        from s in Samples
        from n in Nodes
        where n is not ParamNode && IsDownstream(s, n)
        select (s, n);

    /// <inheritdoc />
    public override string ToString() => TraceFormat.ToText(this);
}
