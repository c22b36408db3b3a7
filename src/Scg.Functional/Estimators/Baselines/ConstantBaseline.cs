using System.Globalization;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>A fixed baseline; see <see cref="Baseline.Constant"/>.</summary>
/// <param name="Value">The baseline.</param>
public sealed record ConstantBaseline(double Value) : Baseline
{
    internal override Tensor? Compute(BaselineContext context, SampleNode site, Tensor costToGo) =>
        tensor(Value, costToGo.dtype, costToGo.device);

    internal override bool CanStack => true;

    /// <inheritdoc />
    public override string ToString() => "constant " + Value.ToString("G4", CultureInfo.InvariantCulture);
}
