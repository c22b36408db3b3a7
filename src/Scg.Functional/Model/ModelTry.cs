using System;

namespace Scg;

public static partial class Model
{
    /// <summary>
    /// Runs <paramref name="body"/>; when it throws during the run (a primitive refusing its input, a continuation
    /// failing), runs the model <paramref name="handler"/> builds from the exception instead, in the same run.
    /// Nodes the body recorded before it threw stay in the trace, and the handler's nodes are downstream of them;
    /// plates and products the body had entered are left first, and <see cref="TryFinally{T}"/> finalizers inside
    /// the body run before the handler. A handler that throws (or rethrows) passes its exception outward. The
    /// interpreter's internal signals are not caught.
    /// </summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="body">The model to run.</param>
    /// <param name="handler">Builds the model to run instead from the exception the body threw.</param>
    public static Model<T> TryCatch<T>(Model<T> body, Func<Exception, Model<T>> handler)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(handler);
        return new(new CatchStep(body.Program, error =>
            (handler(error) ?? throw new InvalidOperationException("The handler of Model.TryCatch returned null instead of a model.")).Program));
    }

    /// <summary>
    /// Runs <paramref name="body"/>, then <paramref name="finalizer"/>: once per run that reaches this model, when
    /// the body has produced its value or when it throws (then before any enclosing handler runs). A model may be
    /// run several times (each interpreter call, a dry run that measures plate nesting), and the finalizer runs in
    /// each of them.
    /// </summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="body">The model to run.</param>
    /// <param name="finalizer">Runs after the body, whatever its outcome; an exception it throws replaces the body's.</param>
    public static Model<T> TryFinally<T>(Model<T> body, Action finalizer)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(finalizer);
        return new(new FinallyStep(body.Program, finalizer));
    }
}
