using System;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>The leave-one-out baseline across particles; see <see cref="Baseline.LeaveOneOut"/>.</summary>
public sealed record LeaveOneOutBaseline : Baseline
{
    internal LeaveOneOutBaseline()
    {
    }

    internal override Tensor? Compute(BaselineContext context, SampleNode site, Tensor costToGo)
    {
        var particles = context.Trace.ParticlePlate;
        if (particles is null || particles.Size < 2)
            throw new ArgumentException(
                $"Sample site '{site.Name}': a leave-one-out baseline needs K ≥ 2 vectorised particles (RunOptions.Particles), " +
                $"but the run had {(particles is null ? "none" : "K = 1")}; each particle's baseline is the mean cost-to-go of the others.");
        // the particle plate is an axis of every reduced tensor (counted from the right), stacked or not
        return costToGo.sum(particles.Dim, keepdim: true).sub(costToGo).div(particles.Size - 1);
    }

    internal override bool CanStack => true;

    /// <inheritdoc />
    public override string ToString() => "leave-one-out";
}
