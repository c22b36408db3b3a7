using System;
using System.Collections.Generic;

namespace Scg.Linq;

/// <summary>
/// LINQ query operators over <see cref="Model{T}"/>, so that models can be written as
/// <c>from z in Model.Sample("z", …) from y in … select …</c> (with <c>let</c>). There is deliberately no
/// <c>Where</c>: filtering a probabilistic program is rejection sampling, which biases gradients; condition
/// with <see cref="Model.Observe"/> instead.
/// </summary>
public static class ModelQuery
{
    /// <summary>Maps the model's value (LINQ <c>select</c>); see <see cref="Model{T}.Map{TResult}"/>.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <typeparam name="TResult">The new value type.</typeparam>
    /// <param name="model">The model.</param>
    /// <param name="selector">A deterministic function of the value.</param>
    public static Model<TResult> Select<T, TResult>(this Model<T> model, Func<T, TResult> selector)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.Map(selector);
    }

    /// <summary>Sequencing (a single LINQ <c>from</c> after another); see <see cref="Model{T}.Bind{TResult}"/>.</summary>
    /// <typeparam name="T">The first value type.</typeparam>
    /// <typeparam name="TResult">The continuation's value type.</typeparam>
    /// <param name="model">The model to run first.</param>
    /// <param name="continuation">Builds the rest from the first value.</param>
    public static Model<TResult> SelectMany<T, TResult>(this Model<T> model, Func<T, Model<TResult>> continuation)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.Bind(continuation);
    }

    /// <summary>
    /// Sequencing with a projection (what the compiler emits for <c>from a in m from b in k(a) select f(a, b)</c>).
    /// Everything the second model records is downstream of the first model's sites.
    /// </summary>
    /// <typeparam name="T">The first value type.</typeparam>
    /// <typeparam name="TMiddle">The second value type.</typeparam>
    /// <typeparam name="TResult">The projected type.</typeparam>
    /// <param name="model">The model to run first.</param>
    /// <param name="continuation">Builds the second model from the first value.</param>
    /// <param name="projection">Combines both values.</param>
    public static Model<TResult> SelectMany<T, TMiddle, TResult>(
        this Model<T> model, Func<T, Model<TMiddle>> continuation, Func<T, TMiddle, TResult> projection)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(continuation);
        ArgumentNullException.ThrowIfNull(projection);
        return model.Bind(a => (continuation(a) ?? throw new InvalidOperationException(
                "The continuation of SelectMany (a LINQ 'from' clause) returned null instead of a model."))
            .Map(b => projection(a, b)));
    }

    /// <summary>The independent product of two models; see <see cref="Model.Zip{T1, T2}"/>.</summary>
    /// <typeparam name="T1">The first value type.</typeparam>
    /// <typeparam name="T2">The second value type.</typeparam>
    /// <typeparam name="TResult">The combined type.</typeparam>
    /// <param name="first">The first model.</param>
    /// <param name="second">The second model, independent of the first.</param>
    /// <param name="resultSelector">Combines both values.</param>
    public static Model<TResult> Zip<T1, T2, TResult>(this Model<T1> first, Model<T2> second, Func<T1, T2, TResult> resultSelector)
    {
        ArgumentNullException.ThrowIfNull(resultSelector);
        return Model.Zip(first, second).Map(p => resultSelector(p.Item1, p.Item2));
    }

    /// <summary>
    /// Runs the models one after another, each downstream of the earlier ones, and collects their values. Runs
    /// as a <see cref="Model.Repeat{TState}"/> loop, so any number of models, and sequences nested through
    /// recursion, run in constant call-stack depth.
    /// </summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="models">The models in order.</param>
    public static Model<IReadOnlyList<T>> Sequence<T>(this IEnumerable<Model<T>> models)
    {
        ArgumentNullException.ThrowIfNull(models);
        var steps = new List<Model<T>>(models);
        return Model.Defer(() =>
        {
            var values = new List<T>(steps.Count);
            return Model.Repeat(steps.Count, 0, (_, t) => steps[t].Map(v => { values.Add(v); return t + 1; }))
                .Map(_ => (IReadOnlyList<T>)values);
        });
    }
}
