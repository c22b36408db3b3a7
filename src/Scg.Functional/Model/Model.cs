using System;
using System.Collections.Generic;
using System.Linq;
using Scg.Distributions;
using Scg.Interpretation;
using Scg.Tracing;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg;

/// <summary>The primitives and combinators that build <see cref="Model{T}"/> values.</summary>
public static partial class Model
{
    /// <summary>The model that records nothing and returns <paramref name="value"/>.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="value">The value to return.</param>
    public static Model<T> Return<T>(T value) => new(new PureStep(value));

    /// <summary>Defers building a model until it runs (for recursion and side-effect-free laziness).</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="factory">Builds the model each time it runs.</param>
    public static Model<T> Defer<T>(Func<Model<T>> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        return new(new DeferStep(() => (factory() ?? throw new InvalidOperationException("Model.Defer's factory returned null.")).Program));
    }

    /// <summary>Sequencing; see <see cref="Model{T}.Bind{TResult}"/>.</summary>
    /// <typeparam name="T">The first model's value type.</typeparam>
    /// <typeparam name="TResult">The continuation's value type.</typeparam>
    /// <param name="model">The model to run first.</param>
    /// <param name="continuation">Builds the rest from the first value.</param>
    public static Model<TResult> Bind<T, TResult>(Model<T> model, Func<T, Model<TResult>> continuation)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.Bind(continuation);
    }

    /// <summary>Applies a deterministic function; see <see cref="Model{T}.Map{TResult}"/>.</summary>
    /// <typeparam name="T">The model's value type.</typeparam>
    /// <typeparam name="TResult">The new value type.</typeparam>
    /// <param name="model">The model.</param>
    /// <param name="selector">The function.</param>
    public static Model<TResult> Map<T, TResult>(Model<T> model, Func<T, TResult> selector)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.Map(selector);
    }

    /// <summary>
    /// A sample site: draws a value named <paramref name="name"/> from <paramref name="distribution"/> (or takes
    /// it from a replay). With <see cref="SiteEstimator.Auto"/> (the default) the site is pathwise when the
    /// distribution is reparameterised and score-function otherwise. A run may override the estimator by site name
    /// or predicate (<see cref="RunOptions.Estimators"/>) without changing the model.
    /// </summary>
    /// <param name="name">The site's name, unique in a run.</param>
    /// <param name="distribution">The distribution to draw from; it is expanded to the enclosing plates.</param>
    /// <param name="estimator">How gradients pass the site (with its baseline or critic); Auto when null.</param>
    /// <exception cref="ArgumentException">When run: the name is taken, a parameter is invalid, or pathwise was
    /// requested for a distribution that is not reparameterised. Messages name the site.</exception>
    public static Model<Tensor> Sample(string name, Distribution distribution, SiteEstimator? estimator = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(distribution);
        var chosen = estimator ?? SiteEstimator.Auto;
        return new(ctx => ctx.Sample(name, distribution, chosen));
    }

    /// <summary>
    /// An observation: conditions <paramref name="distribution"/> on <paramref name="value"/>; its negative
    /// log-probability enters the objective as a cost at this point of the program. Returns the value.
    /// </summary>
    /// <param name="name">The site's name, unique in a run.</param>
    /// <param name="distribution">The likelihood.</param>
    /// <param name="value">The observed value; it must lie in the distribution's support, and its shape must
    /// broadcast to the distribution's batch shape (expanded to the enclosing plates) followed by its event shape,
    /// with no extra dimensions: put data dimensions in plates of their sizes. A value with fewer leading
    /// dimensions (or size 1 there) is the same observation for every element, counted once per element.</param>
    /// <exception cref="ArgumentException">When run: the value's shape does not fit (the message names the site
    /// and both shapes), or it lies outside the support.</exception>
    public static Model<Tensor> Observe(string name, Distribution distribution, Tensor value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(distribution);
        ArgumentNullException.ThrowIfNull(value);
        return new(ctx => ctx.Observe(name, distribution, value));
    }

    /// <summary>
    /// A cost node to minimise (pass a negated reward for a reward). Inside plates the cost is element by
    /// element: its shape must broadcast to the plates' shape, and it is expanded to it (a scalar cost inside
    /// a plate of size N counts N times). Returns the cost.
    /// </summary>
    /// <remarks>
    /// Never reduce over a plate's dimension yourself, and in particular not over the particle dimension of
    /// <see cref="RunOptions.Particles"/>: a cost computed from values that carry the particle dimension must keep
    /// it (one cost per particle), since a scalar cost counts once per particle and the objective is averaged over
    /// them, so <c>c.sum()</c> over K particles is counted K times too much. Only a cost that is the same for every
    /// particle (built from parameters and data alone) may omit the particle dimension. Sum over the other,
    /// non-plate dimensions freely. Scg cannot tell a summed cost from one that is the same for every particle,
    /// so this rule is not checked.
    /// </remarks>
    /// <param name="name">The node's name, unique in a run.</param>
    /// <param name="value">The cost tensor, differentiable in the parameters where it depends on them.</param>
    public static Model<Tensor> Cost(string name, Tensor value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        return new(ctx => ctx.Cost(name, value));
    }

    /// <summary>
    /// Reads the learnable parameter <paramref name="name"/> from the run's <see cref="ParamStore"/>, creating it
    /// from <paramref name="init"/> on first use.
    /// </summary>
    /// <param name="name">The parameter's name.</param>
    /// <param name="init">Produces the initial value (copied; called once per store).</param>
    public static Model<Tensor> Param(string name, Func<Tensor> init)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(init);
        return new(ctx => ctx.Param(name, init));
    }

    /// <summary>
    /// Registers a TorchSharp module in the run's <see cref="ParamStore"/> under <paramref name="name"/> (first
    /// use wins) and returns the registered module, so its parameters are trained with the model's. The store keeps
    /// this very object: two stores given the same module share its weights (training one trains the other). To train
    /// a model value afresh in a new store, use the overload that takes a factory.
    /// </summary>
    /// <typeparam name="TModule">The module type.</typeparam>
    /// <param name="name">The module's name.</param>
    /// <param name="module">The module to register when the name is new.</param>
    public static Model<TModule> Module<TModule>(string name, TModule module) where TModule : nn.Module
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(module);
        return new(ctx => ctx.Store.GetOrAddModule(ctx.Qualify(name), module));
    }

    /// <summary>
    /// Registers a module created by <paramref name="create"/> in the run's <see cref="ParamStore"/> under
    /// <paramref name="name"/>, calling it only when the store has no module of that name, and returns the registered
    /// module. Unlike the overload that takes a module object, a model value built this way trains fresh weights in
    /// every new store (as <see cref="Param"/> does), so one model value can be trained twice independently.
    /// </summary>
    /// <typeparam name="TModule">The module type.</typeparam>
    /// <param name="name">The module's name.</param>
    /// <param name="create">Builds the module (for example <c>() =&gt; nn.Linear(784, 10)</c>); called once per store.</param>
    public static Model<TModule> Module<TModule>(string name, Func<TModule> create) where TModule : nn.Module
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(create);
        return new(ctx =>
        {
            var qualified = ctx.Qualify(name);
            return ctx.Store.Modules.TryGetValue(qualified, out var existing) && existing is TModule registered
                ? registered
                : ctx.Store.GetOrAddModule(qualified, create() ?? throw new InvalidOperationException($"The factory of module '{qualified}' returned null."));
        });
    }

    /// <summary>
    /// Runs <paramref name="body"/> inside a plate: a batch dimension of <paramref name="size"/> elements whose
    /// sites and costs are conditionally independent element by element. Element i of a site inside the plate
    /// is upstream only of element i of the plate's later nodes; a node outside the plate that comes later
    /// depends on all elements. The body runs on the interpreter's continuation stack, so plates nested
    /// through recursion do not deepen the call stack (a run may open at most 64 distinct plates).
    /// </summary>
    /// <typeparam name="T">The body's value type.</typeparam>
    /// <param name="name">The plate's name.</param>
    /// <param name="size">The number of elements.</param>
    /// <param name="body">The model run inside the plate.</param>
    /// <param name="dim">The batch dimension, counted from the right (−1 is rightmost); by default the
    /// rightmost dimension not taken by an enclosing plate.</param>
    public static Model<T> Plate<T>(string name, long size, Model<T> body, int? dim = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(body);
        return new(new PlateStep(name, size, dim, body.Program));
    }

    /// <summary>
    /// The independent product of two models: they run one after the other, but no node of one is downstream of
    /// a site of the other. Everything after the product is downstream of both. The operands run on the
    /// interpreter's continuation stack, so recursion through products of any depth is safe.
    /// </summary>
    /// <typeparam name="T1">The first value type.</typeparam>
    /// <typeparam name="T2">The second value type.</typeparam>
    /// <param name="first">The first model.</param>
    /// <param name="second">The second model; it must not use the first's value (it cannot see it).</param>
    public static Model<(T1, T2)> Zip<T1, T2>(Model<T1> first, Model<T2> second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        return new(new ProductStep([first.Program, second.Program], values => ((T1)values[0]!, (T2)values[1]!)));
    }

    /// <summary>The independent product of any number of models (see <see cref="Zip{T1, T2}"/>), in order.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="models">The independent models.</param>
    public static Model<IReadOnlyList<T>> Zip<T>(IEnumerable<Model<T>> models)
    {
        ArgumentNullException.ThrowIfNull(models);
        var operands = models.Select(m => m ?? throw new ArgumentException("Model.Zip was given a null model.", nameof(models))).ToArray();
        return new(new ProductStep(operands.Select(m => m.Program).ToArray(), values =>
        {
            var results = new T[values.Length];
            for (var i = 0; i < values.Length; i++) results[i] = (T)values[i]!;
            return (IReadOnlyList<T>)results;
        }));
    }

    /// <summary>
    /// Runs <paramref name="step"/> <paramref name="count"/> times in sequence, threading a state; each step is
    /// downstream of the earlier ones. Runs as a loop on the interpreter's continuation stack, so neither long
    /// chains nor repeats nested in steps (or reached by recursion) deepen the call stack.
    /// </summary>
    /// <typeparam name="TState">The state type.</typeparam>
    /// <param name="count">The number of steps.</param>
    /// <param name="initial">The state before the first step.</param>
    /// <param name="step">Builds step t's model from the state and t (0-based).</param>
    public static Model<TState> Repeat<TState>(int count, TState initial, Func<TState, int, Model<TState>> step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentNullException.ThrowIfNull(step);
        return new(new RepeatStep(count, initial, (state, t) =>
            (step((TState)state!, t) ?? throw new InvalidOperationException($"Model.Repeat's step {t} returned null.")).Program));
    }
}
