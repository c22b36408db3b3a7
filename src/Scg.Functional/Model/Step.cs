using System;
using System.Collections.Generic;
using System.Runtime.ExceptionServices;
using Scg.Interpretation;

namespace Scg;

/// <summary>
/// The untyped program a <see cref="Model{T}"/> stands for. Binds, maps, deferrals and the bodies of plates,
/// independent products and <see cref="Model.Repeat{TState}"/> are data, run by <see cref="Execute"/> with one
/// explicit stack of continuations: entering a plate or a product pushes a scope frame that restores the
/// run's state when the body's value reaches it, and a repeat is a frame that starts the next step. So
/// programs of any depth (chains left- or right-nested, recursion through binds, products, plates and
/// repeats) run in constant call-stack depth.
/// </summary>
internal abstract class Step
{
    /// <summary>
    /// Runs a program: the value of its last step. When a step throws, the scopes it was inside are left
    /// (plates closed, products abandoned, finalizers run) down to the nearest handler of
    /// <see cref="Model.TryCatch{T}"/>, whose model then runs in place of the body; with no handler the exception
    /// propagates, unchanged.
    /// </summary>
    public static object? Execute(Step program, RunContext context)
    {
        // One continuation stack per run; a call unwinds only down to the depth it started at.
        var frames = context.Continuations;
        var floor = frames.Count;
        var current = program;
        while (true)
        {
            try
            {
                return Run(current, context, frames, floor);
            }
            catch (Exception thrown)
            {
                var error = thrown;
                if (Unwind(frames, floor, context, ref error) is { } handler)
                {
                    current = handler;
                    continue;
                }
                if (ReferenceEquals(error, thrown)) throw;
                ExceptionDispatchInfo.Throw(error);
                throw;
            }
        }
    }

    private static object? Run(Step program, RunContext context, Stack<Frame> frames, int floor)
    {
        var current = program;
        while (true)
        {
            object? value;
            switch (current)
            {
                case BindStep bind:
                    frames.Push(new Frame(bind.Next, null, null));
                    current = bind.First;
                    continue;
                case MapStep map:
                    frames.Push(new Frame(null, map.Selector, null));
                    current = map.First;
                    continue;
                case DeferStep defer:
                    current = defer.Factory();
                    continue;
                case PureStep pure:
                    value = pure.Value;
                    break;
                case PrimitiveStep primitive:
                    value = primitive.Run(context);
                    break;
                case ScopeStep scope:
                    if (scope.Enter(context, frames, out value) is { } body)
                    {
                        current = body;
                        continue;
                    }
                    break;
                default:
                    throw new InvalidOperationException($"Unknown program step {current.GetType().Name}.");
            }

            while (true)
            {
                if (frames.Count == floor) return value;
                var frame = frames.Pop();
                if (frame.Map is { } selector)
                {
                    value = selector(value);
                    continue;
                }
                if (frame.Bind is { } next)
                {
                    current = next(value);
                    break;
                }
                if (frame.Scope!.Resume(context, frames, ref value) is { } resumed)
                {
                    current = resumed;
                    break;
                }
            }
        }
    }

    /// <summary>
    /// Pops the frames a failed run left above <paramref name="floor"/>, leaving their scopes, until a handler
    /// takes <paramref name="error"/>: returns the handler's program, or null when none did. A scope that throws
    /// while it is left (a finalizer) replaces <paramref name="error"/>, as a .NET finally block does.
    /// </summary>
    private static Step? Unwind(Stack<Frame> frames, int floor, RunContext context, ref Exception error)
    {
        while (frames.Count > floor)
        {
            if (frames.Pop().Scope is not { } scope) continue;
            if (scope is CatchScope handler && CatchScope.Handles(error)) return handler.HandlerFor(error);
            try
            {
                scope.Abandon(context);
            }
            catch (Exception replaced)
            {
                error = replaced;
            }
        }
        return null;
    }
}

/// <summary>A pending continuation: the rest of a bind, a map to apply, or an open scope.</summary>
internal readonly record struct Frame(Func<object?, Step>? Bind, Func<object?, object?>? Map, Scope? Scope);

/// <summary>Returns a value, recording nothing.</summary>
internal sealed class PureStep(object? value) : Step
{
    public object? Value { get; } = value;
}

/// <summary>A primitive: a function of the run context (a site, a cost, a parameter…).</summary>
internal sealed class PrimitiveStep(Func<RunContext, object?> run) : Step
{
    public Func<RunContext, object?> Run { get; } = run;
}

/// <summary>Runs <see cref="First"/>, then the program <see cref="Next"/> builds from its value.</summary>
internal sealed class BindStep(Step first, Func<object?, Step> next) : Step
{
    public Step First { get; } = first;

    public Func<object?, Step> Next { get; } = next;
}

/// <summary>Runs <see cref="First"/> and applies <see cref="Selector"/> to its value.</summary>
internal sealed class MapStep(Step first, Func<object?, object?> selector) : Step
{
    public Step First { get; } = first;

    public Func<object?, object?> Selector { get; } = selector;
}

/// <summary>Builds the program to run when it is reached.</summary>
internal sealed class DeferStep(Func<Step> factory) : Step
{
    public Func<Step> Factory { get; } = factory;
}
