using System;
using System.Linq;
using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>
/// Reinterprets the rightmost batch dimensions of a base distribution as event dimensions: the log
/// probability sums over them. Reparameterisation, support and sampling are the base's.
/// </summary>
public sealed class Independent : Distribution
{
    /// <summary>Wraps <paramref name="baseDistribution"/>, moving <paramref name="reinterpretedDims"/> batch dimensions into the event.</summary>
    /// <param name="baseDistribution">The distribution whose batch dimensions are reinterpreted.</param>
    /// <param name="reinterpretedDims">How many rightmost batch dimensions become event dimensions (0 … batch rank).</param>
    public Independent(Distribution baseDistribution, int reinterpretedDims)
    {
        ArgumentNullException.ThrowIfNull(baseDistribution);
        var batch = baseDistribution.BatchShape;
        if (reinterpretedDims < 0 || reinterpretedDims > batch.Length)
            throw new ArgumentOutOfRangeException(nameof(reinterpretedDims),
                $"{baseDistribution.Name} has batch shape [{Shapes.Format(batch)}]; cannot move {reinterpretedDims} dimensions into the event.");
        Base = baseDistribution;
        ReinterpretedDims = reinterpretedDims;
    }

    /// <summary>The wrapped distribution.</summary>
    public Distribution Base { get; }

    /// <summary>How many batch dimensions of <see cref="Base"/> belong to the event.</summary>
    public int ReinterpretedDims { get; }

    internal override Distribution? WithDetachedParameters() =>
        Base.WithDetachedParameters() is { } inner ? new Independent(inner, ReinterpretedDims) : null;

    /// <inheritdoc />
    public override string Name => Base.Name;

    /// <inheritdoc />
    public override long[] BatchShape => Base.BatchShape[..^ReinterpretedDims];

    /// <inheritdoc />
    public override long[] EventShape => Shapes.Concat(Base.BatchShape[^ReinterpretedDims..], Base.EventShape);

    /// <inheritdoc />
    public override bool IsReparameterized => Base.IsReparameterized;

    /// <inheritdoc />
    public override Constraint Support => Base.Support;

    /// <inheritdoc />
    public override bool SupportDependsOnParameters => Base.SupportDependsOnParameters;

    /// <inheritdoc />
    public override Device Device => Base.Device;

    /// <inheritdoc />
    public override ScalarType DType => Base.DType;

    /// <inheritdoc />
    public override Tensor Sample(Generator? generator, params long[] sampleShape) => Base.Sample(generator, sampleShape);

    /// <inheritdoc />
    public override Tensor RSample(Generator? generator, params long[] sampleShape) => Base.RSample(generator, sampleShape);

    /// <inheritdoc />
    public override Tensor LogProb(Tensor value) => SumEvent(Base.LogProb(value));

    /// <inheritdoc />
    internal override (Tensor Value, Tensor LogProb) SampleWithLogProb(Generator? generator)
    {
        var (value, lp) = Base.SampleWithLogProb(generator);
        return (value, SumEvent(lp));
    }

    /// <summary>The base's log-probability summed over the reinterpreted dimensions.</summary>
    private Tensor SumEvent(Tensor lp)
    {
        if (ReinterpretedDims == 0) return lp;
        return lp.sum(ReinterpretedDims == 1 ? LastDim : Enumerable.Range(1, ReinterpretedDims).Select(i => (long)-i).ToArray());
    }

    private static readonly long[] LastDim = [-1];

    /// <inheritdoc />
    public override Distribution Expand(long[] batchShape) =>
        new Independent(Base.Expand(Shapes.Concat(batchShape, Base.BatchShape[^ReinterpretedDims..])), ReinterpretedDims);

    /// <inheritdoc />
    public override string? ParameterError() => Base.ParameterError();
}
