using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Scg.Distributions;
using Scg.Estimators;
using Scg.Linq;
using Scg.Interpretation;
using Scg.Objectives;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.VarianceReport;

/// <summary>
/// The variational objectives on a conjugate model, z ~ N(0, 1), x | z ~ N(z, 0.5²), x = 0.8, with the guide
/// q(z) = N(m, e^s): the gradient in (m, s) of the ELBO (plain, sticking the landing, analytic KL) against its closed
/// form, and of the IWAE bound (K = 8) against the plain IWAE estimator's mean, at a guide away from the posterior and
/// at the posterior itself (where STL's variance vanishes).
/// </summary>
internal static class GuidedObjectives
{
    private const double X = 0.8;
    private const int K = 8;

    /// <summary>One estimator: its key, a description, and the loss whose gradient it is, built from a guided run.</summary>
    private sealed record Row(string Key, string Description, int Particles, bool Stl, bool AnalyticKl, Func<Tracing.Trace, Tensor> Loss, bool ElboFamily);

    private static readonly Row[] Rows =
    [
        new("(a)", "ELBO, 1 particle", 1, false, false, t => Elbo.Build(t).Loss, true),
        new("(b)", "ELBO, sticking the landing", 1, true, false, t => Elbo.Build(t).Loss, true),
        new("(c)", "ELBO, analytic KL", 1, false, true, t => Elbo.Build(t).Loss, true),
        new("(d)", $"IWAE, K = {K}", K, false, false, t => Iwae.Build(t).Loss, false),
    ];

    /// <summary>The markdown section: one table per guide (away from the posterior, at it).</summary>
    public static string Section(int n, ulong seed, Action<string> progress)
    {
        var posteriorVar = 1.0 / (1.0 + 1.0 / 0.25);
        var points = new (string Name, double M, double S)[]
        {
            ("q away from the posterior: m = 0.3, s = −0.4", 0.3, -0.4),
            ($"q at the posterior: m = {0.8 * 4 * posteriorVar:G3}, s = {0.5 * Math.Log(posteriorVar):G4}", X * 4 * posteriorVar, 0.5 * Math.Log(posteriorVar)),
        };
        var text = new StringBuilder();
        text.AppendLine("### Variational objectives (conjugate Normal model)").AppendLine();
        text.AppendLine("z ~ N(0, 1), x | z ~ N(z, 0.5²), x = 0.8; guide q(z) = N(m, e^s); gradients in (m, s). " +
                        "ELBO rows are compared with the closed-form ELBO gradient; IWAE rows with the mean of row (d). " +
                        "Variances are per estimate (no division by K).").AppendLine();
        foreach (var (name, m0, s0) in points)
        {
            text.AppendLine($"**{name}**").AppendLine();
            text.AppendLine("| estimator | mean ∂m | mean ∂s | exact ∂m | exact ∂s | max \\|z\\| | var ∂m | var ∂s | var / var(a) |");
            text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            var exact = ExactElboGradient(m0, s0);
            double[]? referenceVar = null;
            double[]? iwaeMean = null;
            foreach (var row in Rows)
            {
                progress($"[{row.Key} {row.Description}, {name}] drawing {n} estimates");
                var (mean, variance) = Draw(row, m0, s0, n, seed);
                referenceVar ??= variance;
                if (!row.ElboFamily) iwaeMean ??= mean;
                var target = row.ElboFamily ? exact : iwaeMean!;
                // a difference at rounding level is no difference (sticking the landing at the posterior: every estimate ≈ 0)
                var z = Enumerable.Range(0, 2).Max(i => Math.Abs(mean[i] - target[i]) < 1e-9 ? 0 : Math.Abs(mean[i] - target[i]) / Math.Sqrt(variance[i] / n));
                var ratio = (variance[0] + variance[1]) / (referenceVar[0] + referenceVar[1]);
                text.AppendLine($"| {row.Key} {row.Description} | {F(mean[0])} | {F(mean[1])} | {F(target[0])} | {F(target[1])} | " +
                                $"{(row.ElboFamily || !ReferenceEquals(target, mean) ? z.ToString("F1", CultureInfo.InvariantCulture) : "—")} | " +
                                $"{F(variance[0])} | {F(variance[1])} | {ratio.ToString(ratio < 0.1 ? "F4" : "F3", CultureInfo.InvariantCulture)} |");
            }
            text.AppendLine();
        }
        text.AppendLine($"N = {n.ToString("N0", CultureInfo.InvariantCulture)} estimates per row. |z| is the largest over (m, s) of |mean − target| / its standard error; " +
                        "(d) is its own target (—).");
        return text.ToString();
    }

    private static (double[] Mean, double[] Variance) Draw(Row row, double m0, double s0, int n, ulong seed)
    {
        var m = tensor(m0, dtype: ScalarType.Float64, requires_grad: true);
        var s = tensor(s0, dtype: ScalarType.Float64, requires_grad: true);
        var guide = Model.Sample("z", new Normal(m, s.exp()));
        var generative =
            from z in Model.Sample("z", new Normal(tensor(0.0, dtype: ScalarType.Float64), tensor(1.0, dtype: ScalarType.Float64)))
            from x in Model.Observe("x", new Normal(z, tensor(0.5, dtype: ScalarType.Float64)), tensor(X, dtype: ScalarType.Float64))
            select x;
        var pair = Guided.Pair(guide, generative, analyticKl: row.AnalyticKl, stickTheLanding: row.Stl);
        using var generator = new Generator(seed, CPU);
        var options = new RunOptions { Generator = generator, Particles = row.Particles };
        var sum = new double[2];
        var sumSq = new double[2];
        for (var i = 0; i < n; i++)
        {
            using var scope = NewDisposeScope();
            var loss = row.Loss(Interpreter.Sample(pair, options).Trace);
            var g = Derivatives.Gradient(loss, [m, s]);
            for (var j = 0; j < 2; j++)
            {
                var v = g[j].item<double>();
                sum[j] += v;
                sumSq[j] += v * v;
            }
        }
        var mean = sum.Select(v => v / n).ToArray();
        var variance = Enumerable.Range(0, 2).Select(j => Math.Max(0, (sumSq[j] - n * mean[j] * mean[j]) / (n - 1))).ToArray();
        return (mean, variance);
    }

    /// <summary>∇(−ELBO) in (m, s), from the closed form −ELBO = −H[q] − E_q log p(z) − E_q log p(x | z).</summary>
    private static double[] ExactElboGradient(double m0, double s0)
    {
        var m = tensor(m0, dtype: ScalarType.Float64, requires_grad: true);
        var s = tensor(s0, dtype: ScalarType.Float64, requires_grad: true);
        var sd = s.exp();
        var entropy = 0.5 * Math.Log(2 * Math.PI * Math.E) + s;
        var crossPrior = 0.5 * Math.Log(2 * Math.PI) + (m.square() + sd.square()) * 0.5;
        var crossLikelihood = Math.Log(0.5) + 0.5 * Math.Log(2 * Math.PI) + ((m - X).square() + sd.square()) / (2 * 0.25);
        var negElbo = -entropy + crossPrior + crossLikelihood;
        negElbo.backward();
        return [m.grad!.item<double>(), s.grad!.item<double>()];
    }

    private static string F(double value) =>
        Math.Abs(value) < 1e-12 ? "0" : Math.Abs(value) is >= 0.001 and < 1000 || value == 0 ? value.ToString("G4", CultureInfo.InvariantCulture) : value.ToString("0.00e+0", CultureInfo.InvariantCulture);
}
