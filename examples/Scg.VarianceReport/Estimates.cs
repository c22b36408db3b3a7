using System;
using System.Diagnostics;
using System.Linq;
using Scg.Estimators;
using Scg.Interpretation;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.VarianceReport;

/// <summary>Draws gradient estimates of a model under one configuration: one run, surrogate and gradient each.</summary>
internal static class Estimates
{
    /// <summary>
    /// N estimates of the gradient, row by row (row i holds estimate i's coordinates in group order). Every
    /// configuration measures with a generator seeded with <paramref name="seed"/>; warm-up and pre-training draw
    /// from another, so configurations without particles see the same draws and their ratios are paired.
    /// </summary>
    public static double[] Draw(MeasuredModel model, Configuration config, int n, ulong seed, Action<string> progress)
    {
        var store = new ParamStore();
        var surrogateOptions = new SurrogateOptions { TotalCost = config.TotalCost };
        RunOptions Options(Generator generator) => new()
        {
            Generator = generator,
            Params = store,
            Particles = config.Particles,
            MaxPlateNesting = model.MaxPlateNesting,
            Estimators = config.Overrides,
        };

        using (var before = new Generator(seed + 1, CPU))
        {
            if (config.Pretrain is { } modules) Pretrain(model, modules, Options(before), surrogateOptions, progress);
            for (var i = 0; i < config.WarmUp; i++)
            {
                using var scope = NewDisposeScope();
                Surrogate.Build(Interpreter.Sample(model.Build(), Options(before)).Trace, surrogateOptions);
            }
        }

        using var generator = new Generator(seed, CPU);
        var options = Options(generator);
        var parameters = model.Parameters;
        var d = model.Dimension;
        var rows = new double[n * d];
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < n; i++)
        {
            using var scope = NewDisposeScope();
            var objective = Surrogate.Build(Interpreter.Sample(model.Build(), options).Trace, surrogateOptions);
            var grads = torch.autograd.grad([objective.Surrogate], parameters);
            var flat = cat(grads.Select(g => g.reshape(-1)).ToArray()).to_type(ScalarType.Float64);
            Array.Copy(flat.data<double>().ToArray(), 0, rows, i * d, d);
            if ((i + 1) % 2500 == 0) progress($"{i + 1}/{n} estimates, {clock.Elapsed.TotalSeconds:F1} s");
        }
        return rows;
    }

    /// <summary>Least-squares training of the learned baselines' modules (and only theirs) at the fixed parameters.</summary>
    private static void Pretrain(MeasuredModel model, nn.Module[] modules, RunOptions options, SurrogateOptions surrogateOptions, Action<string> progress)
    {
        var optimizer = torch.optim.Adam(modules.SelectMany(m => m.parameters()), lr: 0.02);
        var recent = 0.0;
        for (var i = 0; i < Configurations.PretrainRuns; i++)
        {
            using var scope = NewDisposeScope();
            var objective = Surrogate.Build(Interpreter.Sample(model.Build(), options).Trace, surrogateOptions);
            var loss = objective.BaselineLoss ?? throw new InvalidOperationException("The learned configuration produced no baseline loss.");
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            recent = i == 0 ? loss.item<float>() : 0.99 * recent + 0.01 * loss.item<float>();
            if ((i + 1) % 1000 == 0) progress($"pre-training the learned baselines: {i + 1}/{Configurations.PretrainRuns} runs, baseline loss ≈ {recent:G3}");
        }
    }
}
