using System;
using Scg.Interpretation;

namespace Scg;

/// <summary>
/// An immutable description of a stochastic computation that returns a <typeparamref name="T"/>. A model does
/// nothing by itself: an interpreter (<see cref="Interpreter"/>) runs it, drawing or replaying its sample
/// sites and recording a trace. Build models with the primitives of <see cref="Model"/> and compose them with
/// <see cref="Map{TResult}"/> and <see cref="Bind{TResult}"/> (or LINQ query syntax from Scg.CSharpFacade).
/// </summary>
/// <typeparam name="T">The type of the value the model returns.</typeparam>
public sealed class Model<T>
{
    internal Model(Step program) => Program = program;

    internal Model(Func<RunContext, T> primitive) => Program = new PrimitiveStep(ctx => primitive(ctx));

    /// <summary>The untyped program this model stands for.</summary>
    internal Step Program { get; }

    internal T Run(RunContext context) => (T)Step.Execute(Program, context)!;

    /// <summary>The model that runs this one and applies <paramref name="selector"/> to its value.</summary>
    /// <typeparam name="TResult">The new value type.</typeparam>
    /// <param name="selector">A deterministic function of the value.</param>
    public Model<TResult> Map<TResult>(Func<T, TResult> selector)
    {
        ArgumentNullException.ThrowIfNull(selector);
        return new Model<TResult>(new MapStep(Program, value => selector((T)value!)));
    }

    /// <summary>
    /// Sequencing: runs this model, then the model that <paramref name="continuation"/> builds from its value.
    /// Everything recorded by the continuation is downstream of every site recorded by this model. Chains of
    /// any depth run in constant call-stack depth.
    /// </summary>
    /// <typeparam name="TResult">The continuation's value type.</typeparam>
    /// <param name="continuation">Builds the rest of the computation from this model's value.</param>
    public Model<TResult> Bind<TResult>(Func<T, Model<TResult>> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        return new Model<TResult>(new BindStep(Program, value =>
            (continuation((T)value!) ?? throw new InvalidOperationException("The continuation of Bind returned null instead of a model.")).Program));
    }
}
