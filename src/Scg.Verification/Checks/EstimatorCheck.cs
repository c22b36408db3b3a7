using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Scg.Estimators;
using Scg.Interpretation;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Verification.Checks;

/// <summary>
/// Statistical checks of gradient estimators: N independent gradient estimates per configuration (one run and one
/// backward pass of its surrogate each, fixed seed), compared per parameter element with the exact gradient
/// (<see cref="Exact"/>) by a z-test at a stated false-alarm rate, Bonferroni-corrected over every element and
/// configuration, its bound taken from Student's t with N − 1 degrees of freedom (<see cref="StudentT"/>); when the
/// model is too large for an exact value, the configurations are compared with the first (two-sample z-tests) and the
/// report says so. Per-site diagnostics measure each score-function site's share of the
/// gradient variance by swapping its estimator for enumeration (or a given one).
/// </summary>
/// <remarks>
/// An unbiased estimator fails with probability at most the false-alarm rate; a biased one fails once N is large
/// enough for its bias to exceed about bound × standard error. Baselines that learn (moving averages, learned
/// modules) keep their state in the store between runs, but learned modules are not trained by the check.
/// </remarks>
public static class EstimatorCheck
{
    /// <summary>Checks one configuration against the exact gradient.</summary>
    /// <typeparam name="T">The model's value type.</typeparam>
    /// <param name="model">The model.</param>
    /// <param name="store">Its parameter store (the parameters are created in it when missing).</param>
    /// <param name="configuration">How to estimate the gradient.</param>
    /// <param name="samples">N, the number of estimates (at least 2).</param>
    /// <param name="seed">The seed of the runs' generator.</param>
    /// <param name="falseAlarmRate">The chance that a correct estimator fails the check (default 1e-3).</param>
    /// <param name="options">Parameters, known exact values, site diagnostics; defaults when null.</param>
    /// <exception cref="InvalidOperationException">No exact value can be computed (the message says why): compare two configurations.</exception>
    public static CheckReport Run<T>(Model<T> model, ParamStore store, EstimatorConfiguration configuration, int samples, ulong seed,
        double falseAlarmRate = 1e-3, CheckOptions? options = null) =>
        Run(model, store, [configuration ?? throw new ArgumentNullException(nameof(configuration))], samples, seed, falseAlarmRate, options);

    /// <summary>
    /// Checks every configuration against the exact gradient; when the model is too large for one, compares every
    /// configuration after the first with the first (two-sample z-tests), and says so in the report.
    /// </summary>
    /// <typeparam name="T">The model's value type.</typeparam>
    /// <param name="model">The model.</param>
    /// <param name="store">Its parameter store.</param>
    /// <param name="configurations">The configurations (at least one; two or more for a comparison without an exact value).</param>
    /// <param name="samples">N, the number of estimates per configuration.</param>
    /// <param name="seed">The seed of the first configuration's generator; configuration i uses seed + i.</param>
    /// <param name="falseAlarmRate">The chance that correct estimators fail anywhere in the report (default 1e-3).</param>
    /// <param name="options">Parameters, known exact values, site diagnostics; defaults when null.</param>
    /// <exception cref="InvalidOperationException">No exact value and a single configuration.</exception>
    public static CheckReport Run<T>(Model<T> model, ParamStore store, IReadOnlyList<EstimatorConfiguration> configurations, int samples, ulong seed,
        double falseAlarmRate = 1e-3, CheckOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(configurations);
        if (configurations.Count == 0) throw new ArgumentException("Give at least one estimator configuration.", nameof(configurations));
        Validate(samples, falseAlarmRate);
        options ??= CheckOptions.Default;
        var parameters = options.Parameters ?? Parameters.Of(model, store);
        Parameters.RequireLeaves(parameters);
        Parameters.RequireSome(parameters, "EstimatorCheck.Run");
        DryRun(model, store, configurations);
        var labels = Parameters.Labels(parameters);
        double[]? exact = options.ExactGradient?.ToArray();
        string reference;
        if (exact is not null)
        {
            if (exact.Length != labels.Length)
                throw new ArgumentException($"CheckOptions.ExactGradient has {exact.Length} values for {labels.Length} parameter elements ({string.Join(", ", labels.Select(l => l.Label))}).", nameof(options));
            reference = "the exact gradient given in CheckOptions.ExactGradient";
        }
        else
        {
            try
            {
                exact = Exact.Gradient(model, store, parameters, options.Exact).ToArray();
                reference = "the exact gradient (Scg.Verification.Exact: discrete sites enumerated, continuous ones by Gauss quadrature)";
            }
            catch (ModelTooLargeException e)
            {
                if (configurations.Count < 2)
                    throw new InvalidOperationException(
                        $"EstimatorCheck: no exact gradient for this model ({e.Message}) and a single configuration, so there is nothing to compare " +
                        "it with. Pass two or more configurations (the first is the reference; a trusted low-variance one is best).", e);
                reference = $"configuration '{configurations[0].Name}' (two-sample z-tests: no exact gradient, because {e.Message})";
                return Compare(model, store, configurations, samples, seed, falseAlarmRate, options, parameters, reference);
            }
        }
        var bound = StudentT.BonferroniBound(falseAlarmRate, labels.Length * configurations.Count, samples - 1);
        var checks = ImmutableArray.CreateBuilder<ConfigurationCheck>();
        for (var i = 0; i < configurations.Count; i++)
        {
            var conf = configurations[i];
            var summary = SampleSummary.Of(Estimates(model, store, conf, parameters, samples, seed + (ulong)i));
            var rows = Rows(labels, summary, exact, summary.ZScores(exact), summary.StandardError, bound);
            checks.Add(new ConfigurationCheck(conf.Name, rows, Diagnostics(model, store, conf, parameters, samples, seed + (ulong)i, summary, options)));
        }
        return new CheckReport(reference, true, samples, seed, falseAlarmRate, bound, checks.ToImmutable());
    }

    /// <summary>
    /// Compares every configuration after the first with the first by two-sample z-tests (no exact value used), for
    /// models too large to integrate or to compare an estimator with a trusted one.
    /// </summary>
    /// <typeparam name="T">The model's value type.</typeparam>
    /// <param name="model">The model.</param>
    /// <param name="store">Its parameter store.</param>
    /// <param name="configurations">The reference configuration first, then the ones to compare with it.</param>
    /// <param name="samples">N per configuration.</param>
    /// <param name="seed">The seed of the first configuration's generator; configuration i uses seed + i.</param>
    /// <param name="falseAlarmRate">The chance that correct estimators fail anywhere in the report.</param>
    /// <param name="options">Parameters and site diagnostics; defaults when null.</param>
    public static CheckReport Compare<T>(Model<T> model, ParamStore store, IReadOnlyList<EstimatorConfiguration> configurations, int samples, ulong seed,
        double falseAlarmRate = 1e-3, CheckOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(configurations);
        if (configurations.Count < 2) throw new ArgumentException("A comparison needs two or more configurations (the first is the reference).", nameof(configurations));
        Validate(samples, falseAlarmRate);
        options ??= CheckOptions.Default;
        var parameters = options.Parameters ?? Parameters.Of(model, store);
        Parameters.RequireLeaves(parameters);
        Parameters.RequireSome(parameters, "EstimatorCheck.Compare");
        DryRun(model, store, configurations);
        return Compare(model, store, configurations, samples, seed, falseAlarmRate, options, parameters,
            $"configuration '{configurations[0].Name}' (two-sample z-tests, as asked)");
    }

    private static CheckReport Compare<T>(Model<T> model, ParamStore store, IReadOnlyList<EstimatorConfiguration> configurations, int samples, ulong seed,
        double falseAlarmRate, CheckOptions options, IReadOnlyList<KeyValuePair<string, Tensor>> parameters, string reference)
    {
        var labels = Parameters.Labels(parameters);
        // Welch's statistic with equal N has at least N − 1 degrees of freedom: the bound for N − 1 is conservative
        var bound = StudentT.BonferroniBound(falseAlarmRate, labels.Length * (configurations.Count - 1), samples - 1);
        var first = SampleSummary.Of(Estimates(model, store, configurations[0], parameters, samples, seed));
        var checks = ImmutableArray.CreateBuilder<ConfigurationCheck>();
        for (var i = 1; i < configurations.Count; i++)
        {
            var conf = configurations[i];
            var summary = SampleSummary.Of(Estimates(model, store, conf, parameters, samples, seed + (ulong)i));
            var se = summary.StandardError.Zip(first.StandardError, (a, b) => Math.Sqrt(a * a + b * b)).ToImmutableArray();
            var rows = Rows(labels, summary, [.. first.Mean], summary.ZScores(first), se, bound);
            checks.Add(new ConfigurationCheck(conf.Name, rows, Diagnostics(model, store, conf, parameters, samples, seed + (ulong)i, summary, options)));
        }
        return new CheckReport(reference, false, samples, seed, falseAlarmRate, bound, checks.ToImmutable());
    }

    /// <summary>
    /// N gradient estimates of <paramref name="configuration"/>, one run each with a generator seeded by
    /// <paramref name="seed"/>, as arrays of doubles (one entry per parameter element).
    /// </summary>
    /// <typeparam name="T">The model's value type.</typeparam>
    /// <param name="model">The model.</param>
    /// <param name="store">Its parameter store (the runs read and update it).</param>
    /// <param name="configuration">How to estimate.</param>
    /// <param name="parameters">The named leaves to differentiate with respect to.</param>
    /// <param name="samples">N.</param>
    /// <param name="seed">The generator's seed.</param>
    public static double[][] Estimates<T>(Model<T> model, ParamStore store, EstimatorConfiguration configuration,
        IReadOnlyList<KeyValuePair<string, Tensor>> parameters, int samples, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(parameters);
        var leaves = parameters.Select(p => p.Value).ToArray();
        var width = (int)leaves.Sum(l => l.numel());
        using var generator = new Generator(seed, CPU);
        var options = configuration.RunOptions(store) with { Generator = generator };
        var result = new double[samples][];
        for (var i = 0; i < samples; i++)
        {
            using var scope = NewDisposeScope();
            try
            {
                var trace = Interpreter.Sample(model, options).Trace;
                var objective = configuration.ObjectiveOf(trace);
                result[i] = width == 0 ? [] : !objective.requires_grad ? new double[width]
                    : Derivatives.Gradient(objective, leaves).detach().to_type(ScalarType.Float64).data<double>().ToArray();
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException)
            {
                throw new InvalidOperationException($"Configuration '{configuration.Name}', estimate {i + 1} of {samples}: {e.Message}", e);
            }
        }
        return result;
    }

    private static ImmutableArray<ParameterCheck> Rows(ImmutableArray<(string Name, long Index, string Label)> labels, SampleSummary summary,
        double[] reference, ImmutableArray<double> z, ImmutableArray<double> se, double bound) =>
        [.. labels.Select((l, j) =>
        {
            var sd = Math.Sqrt(summary.Variance[j]);
            var snr = sd > 0 ? Math.Abs(summary.Mean[j]) / sd : summary.Mean[j] == 0 ? 0 : double.PositiveInfinity;
            return new ParameterCheck(l.Label, reference[j], summary.Mean[j], se[j], z[j], Math.Abs(z[j]) <= bound, summary.Variance[j], snr);
        })];

    private static ImmutableArray<SiteDiagnostic> Diagnostics<T>(Model<T> model, ParamStore store, EstimatorConfiguration configuration,
        IReadOnlyList<KeyValuePair<string, Tensor>> parameters, int samples, ulong seed, SampleSummary baseline, CheckOptions options)
    {
        // a hand-made objective need not follow the estimators of the run, so swapping one says nothing about it
        if (!options.SiteDiagnostics || configuration.Objective is not null) return [];
        var total = baseline.Variance.Sum();
        var sites = ScoreFunctionSites(model, store, configuration, seed);
        var result = ImmutableArray.CreateBuilder<SiteDiagnostic>();
        foreach (var (site, reparameterizable) in sites)
        {
            var swap = options.DiagnosticEstimator ?? (reparameterizable ? SiteEstimator.Pathwise : SiteEstimator.Enumerate);
            try
            {
                var swapped = SampleSummary.Of(Estimates(model, store, configuration.WithSite(site, swap), parameters, samples, seed + 7919));
                var v = swapped.Variance.Sum();
                result.Add(new SiteDiagnostic(site, swap.ToString()!, v, total, total > 0 ? 1 - v / total : 0, null));
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException)
            {
                result.Add(new SiteDiagnostic(site, swap.ToString()!, double.NaN, total, double.NaN, e.Message.Split('\n')[0]));
            }
        }
        return result.ToImmutable();
    }

    /// <summary>The score-function sites of one run of the configuration, in order, and whether each could be pathwise.</summary>
    private static List<(string Site, bool Reparameterizable)> ScoreFunctionSites<T>(Model<T> model, ParamStore store, EstimatorConfiguration configuration, ulong seed)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var run = Interpreter.Sample(model, configuration.RunOptions(store) with { Seed = seed });
        return [.. run.Trace.Samples.Where(s => s.IsScoreFunction).Select(s => (s.Name, s.Distribution.IsReparameterized))];
    }

    private static void Validate(int samples, double falseAlarmRate)
    {
        if (samples < 2) throw new ArgumentOutOfRangeException(nameof(samples), samples, $"A check needs at least 2 estimates (got {samples}).");
        if (!(falseAlarmRate > 0 && falseAlarmRate < 1))
            throw new ArgumentOutOfRangeException(nameof(falseAlarmRate), falseAlarmRate,
                $"The false-alarm rate is a probability strictly between 0 and 1 (got {falseAlarmRate}); 1e-3 is usual.");
    }

    /// <summary>
    /// One run of each configuration, its objective built, before anything costly, so that a configuration that cannot
    /// run (an override naming no site, an estimator the site refuses) is reported by name at once rather than after the
    /// exact gradient. A baseline that keeps state (a moving average) takes it in as one more warm-up run.
    /// </summary>
    private static void DryRun<T>(Model<T> model, ParamStore store, IReadOnlyList<EstimatorConfiguration> configurations)
    {
        foreach (var configuration in configurations)
        {
            ArgumentNullException.ThrowIfNull(configuration, nameof(configurations));
            using var scope = NewDisposeScope();
            try
            {
                var trace = Interpreter.Sample(model, configuration.RunOptions(store) with { Seed = 0 }).Trace;
                configuration.ObjectiveOf(trace);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException)
            {
                throw new InvalidOperationException($"Configuration '{configuration.Name}' cannot run: {e.Message}", e);
            }
        }
    }
}
