using System;
using System.Collections.Generic;
using Scg.Interpretation;

namespace Scg;

/// <summary>
/// Runs <paramref name="body"/> with a handler on the continuation stack: when the body throws during the run,
/// <see cref="Step.Execute"/> leaves the scopes entered since (plates closed, products abandoned, finalizers
/// run) and runs the program <paramref name="handler"/> builds from the exception; see <see cref="Model.TryCatch{T}"/>.
/// </summary>
internal sealed class CatchStep(Step body, Func<Exception, Step> handler) : ScopeStep
{
    public override Step? Enter(RunContext context, Stack<Frame> frames, out object? value)
    {
        frames.Push(new Frame(null, null, new CatchScope(handler)));
        value = null;
        return body;
    }
}

/// <summary>An open handler: passes the body's value through, or takes over when the body throws.</summary>
internal sealed class CatchScope(Func<Exception, Step> handler) : Scope
{
    /// <summary>Whether the handler receives <paramref name="error"/>: the interpreter's own signals pass by.</summary>
    public static bool Handles(Exception error) => error is not EnumerationNeedsNestingException;

    /// <summary>The program that runs the handler (built when it runs, so a throwing handler is itself caught outside).</summary>
    public Step HandlerFor(Exception error) => new DeferStep(() => handler(error));

    public override Step? Resume(RunContext context, Stack<Frame> frames, ref object? value) => null;
}

/// <summary>
/// Runs <paramref name="body"/> and then <paramref name="finalizer"/>, also when the body throws; see
/// <see cref="Model.TryFinally{T}"/>.
/// </summary>
internal sealed class FinallyStep(Step body, Action finalizer) : ScopeStep
{
    public override Step? Enter(RunContext context, Stack<Frame> frames, out object? value)
    {
        frames.Push(new Frame(null, null, new FinallyScope(finalizer)));
        value = null;
        return body;
    }

    private sealed class FinallyScope(Action finalizer) : Scope
    {
        public override Step? Resume(RunContext context, Stack<Frame> frames, ref object? value)
        {
            finalizer();
            return null;
        }

        public override void Abandon(RunContext context) => finalizer();
    }
}
