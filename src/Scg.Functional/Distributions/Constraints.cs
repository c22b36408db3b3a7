using System;
using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>The common supports.</summary>
public static class Constraints
{
    /// <summary>All finite real numbers.</summary>
    public static Constraint Real { get; } = new ElementwiseConstraint("finite real numbers", v => v.isfinite());

    /// <summary>Real numbers strictly greater than zero.</summary>
    public static Constraint Positive { get; } = new ElementwiseConstraint("real numbers in (0, ∞)", v => v.isfinite().logical_and(v.gt(0)));

    /// <summary>Real numbers greater than or equal to zero.</summary>
    public static Constraint NonNegative { get; } = new ElementwiseConstraint("real numbers in [0, ∞)", v => v.isfinite().logical_and(v.ge(0)));

    /// <summary>Real numbers in the closed unit interval [0, 1].</summary>
    public static Constraint UnitInterval { get; } = new ElementwiseConstraint("real numbers in [0, 1]", v => v.ge(0).logical_and(v.le(1)));

    /// <summary>The two values 0 and 1.</summary>
    public static Constraint Boolean { get; } = new ElementwiseConstraint("{0, 1}", v => v.eq(0).logical_or(v.eq(1)));

    /// <summary>Whole numbers 0, 1, 2, ….</summary>
    public static Constraint NonNegativeInteger { get; } =
        new ElementwiseConstraint("{0, 1, 2, …}", v => v.ge(0).logical_and(v.eq(v.floor())));

    /// <summary>Whole numbers in [<paramref name="low"/>, <paramref name="high"/>].</summary>
    /// <param name="low">The smallest admissible value.</param>
    /// <param name="high">The largest admissible value.</param>
    public static Constraint IntegerInterval(long low, long high) =>
        new ElementwiseConstraint($"{{{low}, …, {high}}}", v => v.ge(low).logical_and(v.le(high)).logical_and(v.eq(v.floor())));

    /// <summary>Real numbers in the half-open interval [<paramref name="low"/>, <paramref name="high"/>).</summary>
    /// <param name="low">The lower bound (included); a tensor broadcastable to the value.</param>
    /// <param name="high">The upper bound (excluded); a tensor broadcastable to the value.</param>
    public static Constraint Interval(Tensor low, Tensor high) =>
        new ElementwiseConstraint("real numbers in [low, high)", v => v.ge(low).logical_and(v.lt(high)));

    /// <summary>
    /// Vectors along the last dimension with non-negative entries summing to one (within a tolerance that
    /// depends on the dtype); <see cref="Constraint.Check"/> reduces the last dimension.
    /// </summary>
    public static Constraint Simplex { get; } = new ElementwiseConstraint("probability vectors (the simplex) along the last dimension", v =>
    {
        using var nonNegative = v.isfinite().logical_and(v.ge(0));
        using var allNonNegative = nonNegative.all(-1);
        using var sum = v.sum(-1);
        using var deviation = (sum - 1.0).abs();
        using var sumsToOne = deviation.le(Distributions.Check.SumTolerance(v.dtype));
        return allNonNegative.logical_and(sumsToOne);
    });

    /// <summary>
    /// One-hot vectors along the last dimension (entries 0 or 1, exactly one 1); <see cref="Constraint.Check"/>
    /// reduces the last dimension.
    /// </summary>
    public static Constraint OneHot { get; } = new ElementwiseConstraint("one-hot vectors along the last dimension", v =>
    {
        using var binary = v.eq(0).logical_or(v.eq(1));
        using var allBinary = binary.all(-1);
        using var sum = v.sum(-1);
        using var single = sum.eq(1);
        return allBinary.logical_and(single);
    });

    private sealed class ElementwiseConstraint(string description, Func<Tensor, Tensor> check) : Constraint
    {
        public override string Description => description;

        public override Tensor Check(Tensor value)
        {
            ArgumentNullException.ThrowIfNull(value);
            return check(value);
        }
    }
}
