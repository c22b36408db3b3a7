using System;
using System.Collections.Generic;
using Scg.Interpretation;

namespace Scg;

/// <summary>
/// The untyped program a <see cref="Model{T}"/> stands for. Binds, maps and deferrals are data, run by
/// <see cref="Execute"/> with an explicit stack of continuations, so a chain of any depth (left- or
/// right-nested, or built by recursion) runs in constant call-stack depth.
/// </summary>
internal abstract class Step
{
    /// <summary>Runs a program: the value of its last step.</summary>
    public static object? Execute(Step program, RunContext context)
    {
        // One continuation stack per run, shared by nested calls (plates, products, Repeat): each call
        // unwinds only down to the depth it started at.
        var frames = context.Continuations;
        var floor = frames.Count;
        var current = program;
        while (true)
        {
            object? value;
            switch (current)
            {
                case BindStep bind:
                    frames.Push(new Frame(bind.Next, null));
                    current = bind.First;
                    continue;
                case MapStep map:
                    frames.Push(new Frame(null, map.Selector));
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
                current = frame.Bind!(value);
                break;
            }
        }
    }

}

/// <summary>A pending continuation: the rest of a bind, or a map to apply.</summary>
internal readonly record struct Frame(Func<object?, Step>? Bind, Func<object?, object?>? Map);

/// <summary>Returns a value, recording nothing.</summary>
internal sealed class PureStep(object? value) : Step
{
    public object? Value { get; } = value;
}

/// <summary>A primitive: a function of the run context (a site, a cost, a plate, a product…).</summary>
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
