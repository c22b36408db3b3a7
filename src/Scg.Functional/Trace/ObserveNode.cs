using Scg.Distributions;
using static TorchSharp.torch;

namespace Scg.Tracing;

/// <summary>
/// An observation: a distribution conditioned on a given value. Its negative log-probability enters the
/// objective as a cost recorded at this point of the program.
/// </summary>
public sealed record ObserveNode : TraceNode
{
    /// <summary>The distribution, expanded to the enclosing plates.</summary>
    public required Distribution Distribution { get; init; }

    /// <summary>The observed value.</summary>
    public required Tensor Value { get; init; }

    /// <summary>The log-probability of <see cref="Value"/>, shaped like the distribution's batch shape.</summary>
    public required Tensor LogProb { get; init; }

    /// <summary>True for a model's latent in a guided run, observed at the guide's value: its value is the guide site's,
    /// so it carries nothing from the nodes before it that the guide site does not (see <c>PlateMixing.Carries</c>).</summary>
    internal bool ReplaysGuide { get; init; }

    /// <inheritdoc />
    public override string Describe() => $"observe {Name} ~ {Distribution.Name} value {ShapeOf(Value)}";
}
