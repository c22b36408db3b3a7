namespace Scg.Verification;

/// <summary>One element of a named parameter and a number attached to it (a gradient entry).</summary>
/// <param name="Parameter">The parameter's name.</param>
/// <param name="Index">The element's position in the parameter, flattened (0 for a scalar).</param>
/// <param name="Label">"θ" for a one-element parameter, "θ[3]" otherwise.</param>
/// <param name="Value">The number.</param>
public sealed record ParameterElement(string Parameter, long Index, string Label, double Value)
{
    /// <inheritdoc />
    public override string ToString() => $"{Label} = {Value:G6}";
}
