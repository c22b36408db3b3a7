using static TorchSharp.torch;

namespace Scg.Tracing;

/// <summary>A read of a learnable parameter (recorded once per run, at its first read).</summary>
public sealed record ParamNode : TraceNode
{
    /// <summary>The parameter tensor, shared with the parameter store.</summary>
    public required Tensor Value { get; init; }

    /// <inheritdoc />
    public override string Describe() => $"param {Name} {ShapeOf(Value)}";
}
