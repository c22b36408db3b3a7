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
/// both sides, is left out. A diagnostic for finding overhead, not a benchmark. With <c>--tiny</c> only the ELBO case
/// runs, with networks of 4 pixels and 4 hidden units on a batch of 2: the tensor work is then negligible and what is
/// left is each side's fixed cost per step (its count of tensor operations, TorchSharp's cost per operation, Scg's
/// bookkeeping). Each case also reports the tensors each side creates per step and Scg's managed allocations.
/// </summary>
internal static class Phases
{
    public static int Run(int rounds, bool tiny, TextWriter output)
    {
        torch.set_num_threads(1);
        var (batch, pixels, hidden) = tiny ? (2, 4, 4) : (128, VaeNets.Pixels, VaeNets.Hidden);
        var x = VaeNets.Data(batch, seed: 7, pixels);
        {
            using var g1 = new Generator(11, CPU);
            using var g2 = new Generator(11, CPU);
            var hand = new HandVae(new VaeNets(3, pixels, hidden), x, g1);
            var nets = new VaeNets(3, pixels, hidden);
            var options = new RunOptions { Generator = g2, Params = new ParamStore(), ValidateArguments = false };
            Report($"VAE ELBO, Guided.Pair{(tiny ? " (tiny networks: B = 2, 4 pixels, 4 hidden)" : "")}", rounds, output, hand.Objective,
                () => Interpreter.Sample(VaeGuidedModel.Build(nets, x), options).Trace,
                t => Surrogate.Build(t).Loss);
        }
        if (tiny) return 0;
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
        long handTensors = 0, scgTensors = 0, scgBytes = 0;
        for (var r = -10; r < rounds; r++)
        {
            using (var scope = NewDisposeScope())
            {
                DisposeScopeManager.Statistics.Reset();
                var a = CpuClock.Microseconds();
                var (s, _) = hand();
                var b = CpuClock.Microseconds();
                s.backward();
                var c = CpuClock.Microseconds();
                if (r >= 0) { t[0].Add(b - a); t[1].Add(c - b); }
                handTensors = DisposeScopeManager.Statistics.CreatedInScopeCount;
            }
            using (var scope = NewDisposeScope())
            {
                DisposeScopeManager.Statistics.Reset();
                var bytes = GC.GetAllocatedBytesForCurrentThread();
                var a = CpuClock.Microseconds();
                var trace = run();
                var b = CpuClock.Microseconds();
                var s = build(trace);
                var c = CpuClock.Microseconds();
                s.backward();
                var d = CpuClock.Microseconds();
                if (r >= 0) { t[2].Add(b - a); t[3].Add(c - b); t[4].Add(d - c); }
                scgBytes = GC.GetAllocatedBytesForCurrentThread() - bytes;
                scgTensors = DisposeScopeManager.Statistics.CreatedInScopeCount;
            }
        }
        double M(List<double> v) => v.OrderBy(u => u).ElementAt(v.Count / 2);
        output.WriteLine($"{name}: hand forward {M(t[0]):F0} µs, backward {M(t[1]):F0} µs | Scg run {M(t[2]):F0} µs, build {M(t[3]):F0} µs, " +
                         $"backward {M(t[4]):F0} µs | forward excess {M(t[2]) + M(t[3]) - M(t[0]):F0} µs, backward excess {M(t[4]) - M(t[1]):F0} µs | tensors created per step: " +
                         $"hand {handTensors}, Scg {scgTensors}; Scg's managed allocations {scgBytes / 1024.0:F0} KB per step");
    }
}
