using System;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>A baseline computed by a user function; see <see cref="Baseline.Custom"/>.</summary>
/// <param name="Function">Maps the site and its detached cost-to-go (shaped by the site's plates) to a baseline, or null.</param>
public sealed record CustomBaseline(Func<SampleNode, Tensor, Tensor?> Function) : Baseline
{
    internal override Tensor? Compute(BaselineContext context, SampleNode site, Tensor costToGo) =>
        Function(site, CostToGo.AtSiteRank(costToGo, site));

    /// <inheritdoc />
    public override string ToString() => "custom";
}
