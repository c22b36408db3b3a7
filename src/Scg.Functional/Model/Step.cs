using System;
using System.Collections.Generic;
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
    /// (plates closed, products abandoned) before the exception propagates, unchanged.
    /// </summary>
    public static object? Execute(Step program, RunContext context)
    {
        // One continuation stack per run; a call unwinds only down to the depth it started at.
        var frames = context.Continuations;
        var floor = frames.Count;
        try
        {
            return Run(program, context, frames, floor);
        }
        catch
        {
            Unwind(frames, floor, context);
            throw;
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

    /// <summary>Pops the frames a failed run left above <paramref name="floor"/>, leaving their scopes.</summary>
    private static void Unwind(Stack<Frame> frames, int floor, RunContext context)
    {
        while (frames.Count > floor)
            frames.Pop().Scope?.Abandon(context);
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
