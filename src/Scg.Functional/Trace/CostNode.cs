using static TorchSharp.torch;

namespace Scg.Tracing;

/// <summary>A cost to minimise (a reward is a negative cost), element by element inside its plates.</summary>
public sealed record CostNode : TraceNode
{
    /// <summary>The cost, broadcastable to the enclosing plates' shape.</summary>
    public required Tensor Value { get; init; }

    /// <inheritdoc />
    public override string Describe() => $"cost {Name} {ShapeOf(Value)}";
}
