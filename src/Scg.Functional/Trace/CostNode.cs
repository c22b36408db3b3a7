using static TorchSharp.torch;

namespace Scg.Tracing;

/// <summary>A cost to minimise (a reward is a negative cost), element by element inside its plates.</summary>
public sealed record CostNode : TraceNode
{
    /// <summary>The cost, broadcastable to the enclosing plates' shape.</summary>
    public required Tensor Value { get; init; }

    /// <summary>In a guided run, which guide term this cost is (none for the model's own costs).</summary>
    internal GuideTerm GuideTerm { get; init; }

    /// <summary>For a guide term, the name of the guide site it belongs to; null otherwise.</summary>
    internal string? GuideSite { get; init; }

    /// <inheritdoc />
    public override string Describe() => $"cost {Name} {ShapeOf(Value)}";
}
