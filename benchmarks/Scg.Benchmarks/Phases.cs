using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Scg.Estimators;
using Scg.Interpretation;
using Scg.Objectives;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.Benchmarks;

/// <summary>
/// Where a step's time goes (<c>-- --phases [rounds]</c>), by process CPU time on one thread: for the guided VAE and
/// IWAE cases, the hand-written forward (objective) and backward against Scg's run (<c>Interpreter.Sample</c>),
/// surrogate or bound construction, and backward; medians over interleaved rounds. The optimizer step, the same on
/// both sides, is left out. A diagnostic for finding overhead, not a benchmark.
/// </summary>
internal static class Phases
{
    public static int Run(int rounds, TextWriter output)
    {
        torch.set_num_threads(1);
        var x = VaeNets.Data(128, seed: 7);
        {
            using var g1 = new Generator(11, CPU);
            using var g2 = new Generator(11, CPU);
            var hand = new HandVae(new VaeNets(3), x, g1);
            var nets = new VaeNets(3);
            var options = new RunOptions { Generator = g2, Params = new ParamStore(), ValidateArguments = false };
            Report("VAE ELBO, Guided.Pair", rounds, output, hand.Objective,
                () => Interpreter.Sample(VaeGuidedModel.Build(nets, x), options).Trace,
                t => Surrogate.Build(t).Loss);
        }
        {
            using var g1 = new Generator(11, CPU);
            using var g2 = new Generator(11, CPU);
            var hand = new HandIwae(new IwaeNets(3), x, IwaeStep.K, g1);
            var scg = new ScgIwae(new IwaeNets(3), x, IwaeStep.K, g2, validate: false);
            Report("IWAE, K = 8", rounds, output, hand.Objective, scg.Run, t => Iwae.Build(t).Loss);
        }
        return 0;
    }

    private static void Report(string name, int rounds, TextWriter output,
        Func<(Tensor Surrogate, Tensor Cost)> hand, Func<Scg.Tracing.Trace> run, Func<Scg.Tracing.Trace, Tensor> build)
    {
        var t = Enumerable.Range(0, 5).Select(_ => new List<double>()).ToArray();
        for (var r = -10; r < rounds; r++)
        {
            using (var scope = NewDisposeScope())
            {
                var a = CpuClock.Microseconds();
                var (s, _) = hand();
                var b = CpuClock.Microseconds();
                s.backward();
                var c = CpuClock.Microseconds();
                if (r >= 0) { t[0].Add(b - a); t[1].Add(c - b); }
            }
            using (var scope = NewDisposeScope())
            {
                var a = CpuClock.Microseconds();
                var trace = run();
                var b = CpuClock.Microseconds();
                var s = build(trace);
                var c = CpuClock.Microseconds();
                s.backward();
                var d = CpuClock.Microseconds();
                if (r >= 0) { t[2].Add(b - a); t[3].Add(c - b); t[4].Add(d - c); }
            }
        }
        double M(List<double> v) => v.OrderBy(u => u).ElementAt(v.Count / 2);
        output.WriteLine($"{name}: hand forward {M(t[0]):F0} µs, backward {M(t[1]):F0} µs | Scg run {M(t[2]):F0} µs, build {M(t[3]):F0} µs, " +
                         $"backward {M(t[4]):F0} µs | forward excess {M(t[2]) + M(t[3]) - M(t[0]):F0} µs, backward excess {M(t[4]) - M(t[1]):F0} µs");
    }
}
