using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Scg.VarianceReport;
using TorchSharp;

// The variance report (docs/variance.md): at fixed parameters, N gradient estimates per configuration (a)–(g) of
// two models, each compared with the exact gradient. Progress goes to stderr, the markdown tables to stdout.
//   dotnet run -c Release --project examples/Scg.VarianceReport [-- --n 10000] [--seed 1] [--model chain|structured|guided] [--configs a,g]
var n = 10_000;
ulong seed = 1;
string? only = null;
string[]? keys = null;   // the configurations to run ((a) is the reference of the ratios: keep it)
for (var i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--n": n = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--seed": seed = ulong.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--model": only = args[i + 1]; break;
        case "--configs": keys = args[i + 1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries); break;
        default: throw new ArgumentException($"Unknown option '{args[i]}'; use --n N, --seed S, --model chain|structured|guided, --configs a,b,….");
    }
}
if (n < 2) throw new ArgumentException("--n must be at least 2.");

torch.set_num_threads(1);   // these graphs are small: a second thread only adds overhead
var models = new List<MeasuredModel>();
if (only is null or "structured") models.Add(new StructuredModel());
if (only is null or "chain") models.Add(new BernoulliChain());

Console.WriteLine("## Variance report");
Console.WriteLine();
Console.WriteLine($"{Environment.ProcessorCount} logical CPUs, {RuntimeInformation.FrameworkDescription}, TorchSharp " +
                  $"{typeof(torch).Assembly.GetName().Version}, 1 TorchSharp thread, seed {seed}.");
Console.WriteLine();
var total = Stopwatch.StartNew();
foreach (var model in models)
{
    var exact = model.ExactGradient();
    var summaries = new List<Summary>();
    foreach (var config in Configurations.For(model))
    {
        if (keys is not null && Array.IndexOf(keys, config.Key.Trim('(', ')')) < 0) continue;
        var label = $"{model.GetType().Name} {config.Key} {config.Description}";
        if (config.Overrides is null)
        {
            Console.Error.WriteLine($"[{label}] {config.NotApplicable}");
            summaries.Add(Summary.NotApplicable(config));
            continue;
        }
        Console.Error.WriteLine($"[{label}] drawing {n} estimates");
        var clock = Stopwatch.StartNew();
        var rows = Estimates.Draw(model, config, n, seed, line => Console.Error.WriteLine($"[{label}] {line}"));
        summaries.Add(Summary.Of(model, config, rows, n, exact, clock.Elapsed.TotalSeconds));
    }
    Console.WriteLine(Report.Table(model, summaries, exact, n));
}
if (only is null or "guided")
    Console.WriteLine(GuidedObjectives.Section(n, seed, line => Console.Error.WriteLine(line)));
Console.WriteLine($"Total time {total.Elapsed.TotalMinutes:F1} min.");
