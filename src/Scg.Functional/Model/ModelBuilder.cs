using System;

namespace Scg;

/// <summary>
/// A computation-expression builder for F#: <c>let model = ModelBuilder()</c> then
/// <c>model { let! z = Model.Sample("z", …) in … return … }</c>. Written in C# with one method per member
/// (no overloads), so F# type inference works; it exposes no F#-only types. Steps that produce a value you
/// do not need are bound with <c>let! _ = …</c>.
/// </summary>
/// <remarks>
/// A minimal builder kept for existing code: it has no loops, <c>try</c>, <c>use</c> or <c>do!</c>. New F# code
/// should use the <c>model { }</c> expression of the Scg.FSharp package (<c>open Scg.FSharp</c>), which has them
/// (docs/fsharp.md).
/// </remarks>
public sealed class ModelBuilder
{
    /// <summary>Sequencing (<c>let!</c>): see <see cref="Model{T}.Bind{TResult}"/>.</summary>
    /// <typeparam name="T">The first value type.</typeparam>
    /// <typeparam name="TResult">The continuation's value type.</typeparam>
    /// <param name="model">The model to run first.</param>
    /// <param name="continuation">The rest of the expression.</param>
    public Model<TResult> Bind<T, TResult>(Model<T> model, Func<T, Model<TResult>> continuation) => Model.Bind(model, continuation);

    /// <summary>A final <c>let!</c> followed by <c>return</c>: a map.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <typeparam name="TResult">The returned type.</typeparam>
    /// <param name="model">The model.</param>
    /// <param name="selector">The returned expression.</param>
    public Model<TResult> BindReturn<T, TResult>(Model<T> model, Func<T, TResult> selector) => Model.Map(model, selector);

    /// <summary><c>and!</c>: the independent product of two models (see <see cref="Model.Zip{T1, T2}"/>).</summary>
    /// <typeparam name="T1">The first value type.</typeparam>
    /// <typeparam name="T2">The second value type.</typeparam>
    /// <param name="first">The first model.</param>
    /// <param name="second">The second model.</param>
    public Model<Tuple<T1, T2>> MergeSources<T1, T2>(Model<T1> first, Model<T2> second) =>
        Model.Zip(first, second).Map(p => Tuple.Create(p.Item1, p.Item2));

    /// <summary><c>return</c>: a model that returns the value.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="value">The value.</param>
    public Model<T> Return<T>(T value) => Model.Return(value);

    /// <summary><c>return!</c>: the model itself.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="model">The model.</param>
    public Model<T> ReturnFrom<T>(Model<T> model) => model ?? throw new ArgumentNullException(nameof(model));

    /// <summary>The empty model, for an <c>if</c> without <c>else</c>; returns the empty tuple.</summary>
    public Model<ValueTuple> Zero() => Model.Return(default(ValueTuple));

    /// <summary>Wraps the expression so it is built when the model runs, not when it is defined.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="factory">Builds the model.</param>
    public Model<T> Delay<T>(Func<Model<T>> factory) => Model.Defer(factory);
}
