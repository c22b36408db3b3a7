using System;
using System.Collections.Generic;
using Scg.Interpretation;

namespace Scg;

/// <summary>
/// A step with a body that runs on the interpreter's own continuation stack (see <see cref="Step.Execute"/>):
/// entering it sets up the run's state and pushes a <see cref="Scope"/> frame that the body's value reaches.
/// </summary>
internal abstract class ScopeStep : Step
{
    /// <summary>
    /// Enters the scope: returns the program to run next (after pushing the frame that will receive its
    /// value), or null when the scope's value is known at once (then it is in <paramref name="value"/>).
    /// </summary>
    public abstract Step? Enter(RunContext context, Stack<Frame> frames, out object? value);
}

/// <summary>An open scope on the continuation stack: a plate, a product or a repeat being run.</summary>
internal abstract class Scope
{
    /// <summary>
    /// Receives the value of the body just run: returns the next body to run (after pushing itself again),
    /// or null when the scope is done, leaving its value in <paramref name="value"/>.
    /// </summary>
    public abstract Step? Resume(RunContext context, Stack<Frame> frames, ref object? value);

    /// <summary>Leaves the scope because its body threw: restores the state it changed.</summary>
    public virtual void Abandon(RunContext context)
    {
    }
}

/// <summary>Runs <paramref name="body"/> inside a plate; see <see cref="Model.Plate{T}"/>.</summary>
internal sealed class PlateStep(string name, long size, int? dim, Step body, double scale = 1.0) : ScopeStep
{
    public override Step? Enter(RunContext context, Stack<Frame> frames, out object? value)
    {
        frames.Push(new Frame(null, null, new PlateScope(context.EnterPlate(name, size, dim, scale))));
        value = null;
        return body;
    }

    private sealed class PlateScope(PlateExit exit) : Scope
    {
        public override Step? Resume(RunContext context, Stack<Frame> frames, ref object? value)
        {
            context.ExitPlate(exit);
            return null;
        }

        public override void Abandon(RunContext context) => context.ExitPlate(exit);
    }
}

/// <summary>
/// Runs <paramref name="operands"/> as the branches of an independent product and combines their values;
/// see <see cref="Model.Zip{T1, T2}"/>.
/// </summary>
internal sealed class ProductStep(Step[] operands, Func<object?[], object?> combine) : ScopeStep
{
    private readonly Step[] operands = operands;
    private readonly Func<object?[], object?> combine = combine;

    public override Step? Enter(RunContext context, Stack<Frame> frames, out object? value)
    {
        var product = context.EnterProduct(operands.Length);
        value = null;
        if (operands.Length == 0)
        {
            context.ExitProduct(product);
            value = combine([]);
            return null;
        }
        context.EnterBranch(product, 0);
        frames.Push(new Frame(null, null, new ProductScope(this, product)));
        return operands[0];
    }

    private sealed class ProductScope(ProductStep step, ProductMark product) : Scope
    {
        private readonly object?[] results = new object?[step.operands.Length];
        private int index;

        public override Step? Resume(RunContext context, Stack<Frame> frames, ref object? value)
        {
            results[index++] = value;
            if (index < results.Length)
            {
                context.EnterBranch(product, index);
                frames.Push(new Frame(null, null, this));
                return step.operands[index];
            }
            context.ExitProduct(product);
            value = step.combine(results);
            return null;
        }

        public override void Abandon(RunContext context) => context.AbandonProduct(product);
    }
}

/// <summary>
/// Runs the program <paramref name="step"/> builds <paramref name="count"/> times, each from the previous
/// value (starting at <paramref name="initial"/>); see <see cref="Model.Repeat{TState}"/>.
/// </summary>
internal sealed class RepeatStep(int count, object? initial, Func<object?, int, Step> step) : ScopeStep
{
    private readonly int count = count;
    private readonly Func<object?, int, Step> step = step;

    public override Step? Enter(RunContext context, Stack<Frame> frames, out object? value)
    {
        value = initial;
        if (count == 0) return null;
        frames.Push(new Frame(null, null, new RepeatScope(this)));
        return step(initial, 0);
    }

    private sealed class RepeatScope(RepeatStep repeat) : Scope
    {
        private int t;

        public override Step? Resume(RunContext context, Stack<Frame> frames, ref object? value)
        {
            if (++t == repeat.count) return null;
            frames.Push(new Frame(null, null, this));
            return repeat.step(value, t);
        }
    }
}

/// <summary>Runs <paramref name="body"/> with a name prefix; see <see cref="Model.Scope{T}"/>.</summary>
internal sealed class NameScopeStep(string prefix, Step body) : ScopeStep
{
    public override Step? Enter(RunContext context, Stack<Frame> frames, out object? value)
    {
        frames.Push(new Frame(null, null, new NameScope(context.EnterNameScope(prefix))));
        value = null;
        return body;
    }

    private sealed class NameScope(string outer) : Scope
    {
        public override Step? Resume(RunContext context, Stack<Frame> frames, ref object? value)
        {
            context.ExitNameScope(outer);
            return null;
        }

        public override void Abandon(RunContext context) => context.ExitNameScope(outer);
    }
}
