using System;
using Scg.Interpretation;
using static TorchSharp.torch;

namespace Scg;

public static partial class Model
{
    /// <summary>
    /// Data subsampling: runs <paramref name="body"/> inside plate <paramref name="name"/> on a random minibatch of
    /// <paramref name="subsampleSize"/> of <paramref name="size"/> data points, whose indices (int64, drawn without
    /// replacement with the run's generator) the body receives to select its data. The costs and observations
    /// inside the plate are multiplied by N / B, so the run's cost (an ELBO, a log-likelihood) is an unbiased
    /// estimate of the full data set's, and so is its gradient. Sample sites' own log-probabilities are not scaled:
    /// a score-function site is credited with the scaled costs after it.
    /// </summary>
    /// <remarks>One minibatch per plate and run: a plate subsampled again in the same run (reopened, or in a guide and then in
    /// its model, <see cref="Objectives.Guided"/>) gets the same indices, so its elements are the same data points; its sizes must
    /// then be the same. A replay draws a fresh minibatch: replay a subsampled model only with values that do not depend on
    /// which points were drawn.</remarks>
    /// <typeparam name="T">The body's value type.</typeparam>
    /// <param name="name">The plate's name.</param>
    /// <param name="size">N, the number of data points.</param>
    /// <param name="subsampleSize">B, the minibatch size (1 ≤ B ≤ N).</param>
    /// <param name="body">Builds the plate's body from the minibatch's indices.</param>
    /// <param name="dim">The batch dimension, as for <see cref="Plate{T}"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">When run: B is outside 1 … N.</exception>
    public static Model<T> Subsample<T>(string name, long size, long subsampleSize, Func<Tensor, Model<T>> body, int? dim = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(body);
        var scale = (double)size / subsampleSize;
        return new Model<Tensor>(ctx => ctx.SubsampleIndices(name, size, subsampleSize)).Bind(indices =>
        {
            var inner = body(indices) ?? throw new InvalidOperationException($"Model.Subsample '{name}': the body function returned null.");
            return new Model<T>(new PlateStep(name, subsampleSize, dim, inner.Program, scale));
        });
    }
}
