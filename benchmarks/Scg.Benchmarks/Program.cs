using System;
using System.Linq;
using BenchmarkDotNet.Running;
using Scg.Benchmarks;

// Runs the benchmarks: `dotnet run -c Release --project benchmarks/Scg.Benchmarks -- --filter '*'` runs them all
// (see docs/benchmarks.md); `-- --dry` runs every benchmark body twice at its smallest size and checks the results
// (what CI does, so that the benchmarks cannot rot); `-- --paired [rounds] [filter] [--cpu]` measures the overhead ratios with
// interleaved rounds (see Paired.cs).
if (args.Length > 0 && args[0] == "--paired")
{
    var rest = args.Skip(1).Where(a => a != "--cpu").ToArray();
    return Paired.Run(
        rest.Length > 0 ? int.Parse(rest[0], System.Globalization.CultureInfo.InvariantCulture) : 200, rest.Length > 1 ? rest[1] : null,
        args.Contains("--cpu"), Console.Out);
}

if (args.Contains("--dry"))
    return DryRun.Run(typeof(VaeStep).Assembly, Console.Out);

BenchmarkSwitcher.FromAssembly(typeof(VaeStep).Assembly).Run(args, BenchConfig.Create());
return 0;
