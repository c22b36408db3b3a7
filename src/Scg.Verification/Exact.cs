using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Scg.Estimators;
using Scg.Interpretation;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Verification;

/// <summary>
/// Exact expectations of a model, differentiable: every discrete site is enumerated (every joint value of its
/// elements), every Normal site integrated by Gauss–Hermite and every Uniform or Beta site by Gauss–Legendre
/// quadrature, one run of the model per combination, each run replaying the combination's values
/// (<see cref="RunOptions.SiteValues"/>). The result is Σ weight · f(run), where a weight is the product of the
/// discrete values' probabilities and the quadrature weights; the probabilities and the nodes (μ + σ√2 t for a Normal)
/// keep their dependence on the parameters, so <c>backward()</c>, <see cref="Derivatives.Gradient"/> and
/// <see cref="Derivatives.GradientAndHessian"/> give exact gradients and Hessians (exact up to the quadrature error,
/// which is zero for costs polynomial of degree below 2n in the Normal values).
/// </summary>
/// <remarks>
/// Sites inside plates: every plate element is a dimension of its own (a Bernoulli in a plate of 4 has 16 joint values; a
/// Normal in a plate of 2 is 2 continuous dimensions). The structure may depend on values (a site sampled only when
/// another is 1): combinations are explored depth-first, each site's points found when the run reaches it. Limits
/// (<see cref="ExactOptions"/>): at most <see cref="ExactOptions.MaxContinuousDimensions"/> continuous dimensions in a run and
/// <see cref="ExactOptions.MaxCombinations"/> runs; beyond them, or for a distribution that cannot be integrated, a
/// <see cref="ModelTooLargeException"/> names the sites. Subsampled plates (<c>Model.Subsample</c>) are refused (the
/// minibatch is random). Use float64 models for agreement to 1e-8 and beyond.
/// </remarks>
public static class Exact
{
    /// <summary>
    /// E[total cost]: the sum of the costs and of −log p of the observations, as <see cref="Surrogate.Build"/> reports
    /// it for a run without particles. A differentiable scalar.
    /// </summary>
    /// <typeparam name="T">The model's value type.</typeparam>
    /// <param name="model">The model.</param>
    /// <param name="store">The parameter store the runs read (parameters are created in it when missing).</param>
    /// <param name="options">Quadrature orders and limits; defaults when null.</param>
    /// <exception cref="ModelTooLargeException">Too many combinations or continuous dimensions, or a site that cannot be integrated.</exception>
    public static Tensor Expectation<T>(Model<T> model, ParamStore store, ExactOptions? options = null) =>
        Expectation(model, store, run => TotalCost(run.Trace), options);

    /// <summary>E[f(run)] for any tensor-valued <paramref name="f"/> of a run (its value and trace), differentiable.</summary>
    /// <typeparam name="T">The model's value type.</typeparam>
    /// <param name="model">The model.</param>
    /// <param name="store">The parameter store the runs read.</param>
    /// <param name="f">What to average; the same shape in every run.</param>
    /// <param name="options">Quadrature orders and limits; defaults when null.</param>
    /// <exception cref="ModelTooLargeException">Too many combinations or continuous dimensions, or a site that cannot be integrated.</exception>
    public static Tensor Expectation<T>(Model<T> model, ParamStore store, Func<RunResult<T>, Tensor> f, ExactOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(f);
        Tensor? total = null;
        ForEachTerm(model, store, f, options ?? ExactOptions.Default, perRunScope: false, term => total = total is null ? term : total + term);
        return total!;   // there is always at least one run
    }

    /// <summary>
    /// Runs the model once per combination and hands each weighted term, weight · f(run), to <paramref name="onTerm"/>.
    /// With <paramref name="perRunScope"/> each run's tensors are disposed after its term has been handed on, so
    /// memory stays that of one run (the term must then be used up inside <paramref name="onTerm"/>).
    /// </summary>
    private static void ForEachTerm<T>(Model<T> model, ParamStore store, Func<RunResult<T>, Tensor> f, ExactOptions options, bool perRunScope,
        Action<Tensor> onTerm)
    {
        if (options.ProgressEvery < 1)
            throw new ArgumentOutOfRangeException(nameof(options), $"ExactOptions.ProgressEvery must be at least 1 (got {options.ProgressEvery}).");
        var path = new List<(SiteAxis Axis, long Index)>();
        long runs = 0;
        using var generator = new Generator(0, CPU);
        while (true)
        {
            using var scope = perRunScope ? NewDisposeScope() : null;
            var (value, logWeights) = RunOnce();
            if (runs == 1)
            {
                // the first combination once more: a model (or f) that draws randomness outside Model.Sample would give
                // a different value, and its "exact" expectation would silently be one random draw among many
                var (again, _) = RunOnce();
                bool same;
                using (no_grad()) same = value.shape.SequenceEqual(again.shape) && value.allclose(again, 1e-9, 1e-12, equal_nan: true);
                if (!same)
                    throw new InvalidOperationException(
                        "Exact: two runs of the model at the same site values gave different results, so the model (or the function averaged) " +
                        "draws randomness outside Model.Sample (torch.randn, rand, Random, dropout in training mode …). Draw it through a " +
                        "sample site, or make it a fixed tensor, so that each run is a function of the sites' values.");
            }
            onTerm(logWeights.Count == 0 ? value : value * stack(logWeights).sum().exp());
            // next combination: drop the sites whose points are exhausted, advance the last one left
            while (path.Count > 0 && path[^1].Index + 1 >= path[^1].Axis.Points) path.RemoveAt(path.Count - 1);
            var done = runs - (runs > 1 ? 1 : 0);   // combinations covered (the first is run twice)
            if (path.Count == 0)
            {
                options.Progress?.Report(done);
                return;
            }
            if (done % options.ProgressEvery == 0) options.Progress?.Report(done);
            path[^1] = (path[^1].Axis, path[^1].Index + 1);
        }

        // one run at the combination the path points to (sites reached for the first time start at their first point)
        (Tensor Value, List<Tensor> LogWeights) RunOnce()
        {
            var position = 0;
            var logWeights = new List<Tensor>();
            Tensor? Choose(string name, Distributions.Distribution dist)
            {
                if (position == path.Count)
                {
                    path.Add((SiteAxis.Of(name, dist, options), 0));
                    CheckLimits(path, options);
                }
                else if (path[position].Axis.Site != name)
                    throw new InvalidOperationException(
                        $"Exact: the model sampled site '{name}' where an earlier run with the same values sampled '{path[position].Axis.Site}'; " +
                        "the model must be deterministic given its sites' values (draw randomness through Model.Sample only).");
                var (value, logWeight) = path[position].Axis.At(dist, path[position].Index);
                logWeights.Add(logWeight);
                position++;
                return value;
            }
            if (++runs > options.MaxCombinations + 1) throw TooManyRuns(path, runs - 1, options);
            var run = Interpreter.Sample(model, new RunOptions
            {
                Params = store, Generator = generator, SiteValues = Choose, ValidateArguments = options.ValidateArguments,
            });
            if (run.Trace.Plates.FirstOrDefault(p => p.Scale != 1.0) is { } subsampled)
                throw new ModelTooLargeException(
                    $"Exact: plate '{subsampled.Name}' is subsampled (Model.Subsample, {subsampled.Size} elements with scale {subsampled.Scale:G4}); " +
                    "its minibatch is random, so the run is not a function of the sites' values. Check the full-data model (Model.Plate) instead.",
                    [subsampled.Name]);
            return (f(run), logWeights);
        }
    }

    /// <summary>
    /// The exact gradient of E[total cost] with respect to <paramref name="parameters"/> (the store's named parameters
    /// and its modules' weights when null), flattened and concatenated in order, with the value. Each run's term is
    /// differentiated as soon as it is computed and its graph freed, so memory stays that of one run however many
    /// combinations there are (<see cref="Expectation{T}(Model{T}, ParamStore, ExactOptions?)"/> keeps them all, for Hessians).
    /// </summary>
    /// <typeparam name="T">The model's value type.</typeparam>
    /// <param name="model">The model.</param>
    /// <param name="store">The parameter store.</param>
    /// <param name="parameters">Named leaves that require gradients; the store's named parameters when null.</param>
    /// <param name="options">Quadrature orders and limits; defaults when null.</param>
    public static ExactGradient Gradient<T>(Model<T> model, ParamStore store, IReadOnlyList<KeyValuePair<string, Tensor>>? parameters = null, ExactOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(model);
        // parameters and modules the model creates are made now, outside the per-run dispose scopes below
        if (parameters is null) parameters = Parameters.Of(model, store);   // which initialises the store
        else store.Initialize(model);
        var leaves = parameters.Select(p => p.Value).ToArray();
        var gradient = new double[leaves.Sum(l => l.numel())];
        var value = 0.0;
        ForEachTerm(model, store, run => TotalCost(run.Trace), options ?? ExactOptions.Default, perRunScope: true, term =>
        {
            value += term.detach().to_type(ScalarType.Float64).item<double>();
            if (gradient.Length == 0 || !term.requires_grad) return;
            var g = Derivatives.Gradient(term, leaves).detach().to_type(ScalarType.Float64).data<double>().ToArray();
            for (var i = 0; i < gradient.Length; i++) gradient[i] += g[i];
        });
        return new ExactGradient(value, Parameters.Flatten(parameters, gradient));
    }

    /// <summary>
    /// Σ costs − Σ log p(observations) of a run without particles or subsampled plates (the total cost
    /// <see cref="Surrogate.Build"/> reports for such a run), differentiable.
    /// </summary>
    /// <param name="trace">The run's trace.</param>
    public static Tensor TotalCost(Trace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        Tensor? sum = null;
        foreach (var node in trace.Nodes)
        {
            var c = node switch { CostNode cost => cost.Value.sum(), ObserveNode observed => observed.LogProb.sum().neg(), _ => null };
            if (c is not null) sum = sum is null ? c : sum + c;
        }
        return sum ?? zeros([], float64);
    }

    private static void CheckLimits(List<(SiteAxis Axis, long Index)> path, ExactOptions options)
    {
        var continuous = path.Where(p => p.Axis.Continuous).ToList();
        var dims = continuous.Sum(p => p.Axis.Elements);
        if (dims > options.MaxContinuousDimensions)
            throw new ModelTooLargeException(
                $"Exact: {dims} continuous dimensions in one run, above ExactOptions.MaxContinuousDimensions = {options.MaxContinuousDimensions} " +
                $"(every plate or event element of a continuous site is a dimension): {string.Join(", ", continuous.Select(p => p.Axis.Describe()))}. " +
                "Shrink the plates, or check the model by comparing two estimator configurations (EstimatorCheck.Compare).",
                [.. continuous.Select(p => p.Axis.Site)]);
        var points = path.Aggregate(1.0, (a, p) => a * p.Axis.Points);
        if (points > options.MaxCombinations)
            throw new ModelTooLargeException(
                $"Exact: {points:G6} combinations (one run each), above ExactOptions.MaxCombinations = {options.MaxCombinations}: " +
                $"{string.Join(" × ", path.Select(p => p.Axis.Describe()))}. Lower the quadrature orders, shrink the plates, raise the limit, " +
                "or compare two estimator configurations (EstimatorCheck.Compare).",
                [.. path.OrderByDescending(p => p.Axis.Points).Select(p => p.Axis.Site)]);
    }

    private static ModelTooLargeException TooManyRuns(List<(SiteAxis Axis, long Index)> path, long runs, ExactOptions options) => new(
        $"Exact: more than ExactOptions.MaxCombinations = {options.MaxCombinations} runs (the model's sites depend on its values, and the " +
        $"branches together exceed the limit; the current one: {string.Join(" × ", path.Select(p => p.Axis.Describe()))}).",
        [.. path.Select(p => p.Axis.Site)]);
}
