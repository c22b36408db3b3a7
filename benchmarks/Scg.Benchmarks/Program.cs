using System;
using System.Linq;
using BenchmarkDotNet.Running;
using Scg.Benchmarks;

// Runs the benchmarks: `dotnet run -c Release --project benchmarks/Scg.Benchmarks -- --filter '*'` runs them all
// (see docs/benchmarks.md); `-- --dry` runs every benchmark body twice at its smallest size and checks the results
// (what CI does, so that the benchmarks cannot rot); `-- --paired [rounds] [filter]` measures the overhead ratios with
// interleaved rounds (see Paired.cs).
if (args.Length > 0 && args[0] == "--paired")
    return Paired.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 200, args.Length > 2 ? args[2] : null, Console.Out);

if (args.Contains("--dry"))
    return DryRun.Run(typeof(VaeStep).Assembly, Console.Out);

BenchmarkSwitcher.FromAssembly(typeof(VaeStep).Assembly).Run(args, BenchConfig.Create());
return 0;
