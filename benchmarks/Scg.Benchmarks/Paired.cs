using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;

namespace Scg.Benchmarks;

/// <summary>
/// A paired measurement of the overhead ratios, robust to the drift of a noisy VM: each round times one step of
/// every variant back to back (in a shuffled order), and the ratio Scg / hand-written is taken within each round;
/// the table reports the median of those per-round ratios with its inter-quartile range.
/// Run with <c>-- --paired [rounds] [filter] [--cpu] [--threads N]</c>; the optional filter keeps the cases whose name contains
/// it (ignoring case), e.g. <c>VAE</c>; <c>--cpu</c> times each step by the process's CPU time instead of the wall
/// clock (<see cref="CpuClock"/>), which a VM busy with other work disturbs much less; <c>--threads N</c> runs the VAE
/// cases with N TorchSharp threads only (both 1 and 2 otherwise).
/// </summary>
internal static class Paired
{
    public static int Run(int rounds, string? filter, bool cpu, int? threadsOnly, TextWriter output)
    {
        bool Wanted(string name) => filter is null || name.Contains(filter, StringComparison.OrdinalIgnoreCase);
        Func<double> clock = cpu ? CpuClock.Microseconds : () => Stopwatch.GetTimestamp() * 1e6 / Stopwatch.Frequency;
        output.WriteLine($"Paired rounds: {rounds} per case; ratio = median over rounds of (variant step / hand-written step in the same round); " +
                         $"{(cpu ? "process CPU time" : "wall-clock time")}.");
        output.WriteLine();
        output.WriteLine("| case | hand-written (median) | Scg / hand | IQR | Scg, validated / hand | IQR |");
        output.WriteLine("|---|---:|---:|---|---:|---|");
        var vaeCases = new (string Label, Func<VaeComparison> Make)[]
        {
            ("VAE, moving-average baseline", () => new VaeStep()),
            ($"VAE, leave-one-out, K = {VaeLooStep.K}", () => new VaeLooStep()),
            ("VAE, y enumerated (10 classes)", () => new VaeEnumStep()),
            ("VAE ELBO, Guided.Pair (objective API)", () => new VaeGuidedStep()),
            ($"IWAE, K = {IwaeStep.K}, Guided.Pair + Iwae.Build", () => new IwaeStep()),
        };
        foreach (var (label, make) in vaeCases)
        {
            foreach (var threads in threadsOnly is { } only ? new[] { only } : new[] { 1, 2 })
            {
                var name = $"{label}, B = 128, {threads} thread(s)";
                if (!Wanted(name)) continue;
                var vae = make();
                vae.Threads = threads;
                vae.Setup();
                Report(name, rounds / 2, clock, vae.Hand, vae.Scg, vae.ScgValidated, output);
                vae.Cleanup();
            }
        }
        foreach (var t in new[] { 10, 100, 1000 })
        {
            var name = $"chain, T = {t}";
            if (!Wanted(name)) continue;
            var chain = new ChainStep { T = t };
            chain.Setup();
            Report(name, t >= 1000 ? rounds / 4 : rounds, clock, () => chain.Hand(), () => chain.Scg(), () => chain.ScgValidated(), output);
            chain.Cleanup();
        }
        return 0;
    }

    private static void Report(string name, int rounds, Func<double> clock, Func<float> hand, Func<float> scg, Func<float> validated, TextWriter output)
    {
        var variants = new[] { hand, scg, validated };
        for (var w = 0; w < 10; w++) foreach (var v in variants) v();
        var times = variants.Select(_ => new List<double>()).ToArray();
        var order = new[] { 0, 1, 2 };
        var random = new Random(17);
        for (var r = 0; r < rounds; r++)
        {
            random.Shuffle(order);
            foreach (var i in order)
            {
                var start = clock();
                var value = variants[i]();
                var elapsed = clock() - start;
                if (!float.IsFinite(value)) throw new InvalidOperationException($"{name}: a step returned {value}.");
                times[i].Add(elapsed);
            }
        }
        var ratio = Enumerable.Range(0, rounds).Select(r => times[1][r] / times[0][r]).ToArray();
        var ratioValidated = Enumerable.Range(0, rounds).Select(r => times[2][r] / times[0][r]).ToArray();
        output.WriteLine($"| {name} | {Quantile(times[0], 0.5):F0} µs | {Quantile(ratio, 0.5):F3} | {Quantile(ratio, 0.25):F2}–{Quantile(ratio, 0.75):F2} " +
                         $"| {Quantile(ratioValidated, 0.5):F3} | {Quantile(ratioValidated, 0.25):F2}–{Quantile(ratioValidated, 0.75):F2} |");
    }

    private static double Quantile(IEnumerable<double> values, double q)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted[(int)Math.Round(q * (sorted.Length - 1))];
    }
}
