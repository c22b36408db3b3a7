using System;
using System.Linq;
using BenchmarkDotNet.Running;
using Scg.Benchmarks;

// Runs the benchmarks: `dotnet run -c Release --project benchmarks/Scg.Benchmarks -- --filter '*'` runs them all
// (see docs/benchmarks.md); `-- --dry` runs every benchmark body twice at its smallest size and checks the results
// (what CI does, so that the benchmarks cannot rot); `-- --paired [rounds] [filter] [--cpu] [--threads N]` measures the overhead ratios with
// interleaved rounds (see Paired.cs); `-- --phases [rounds] [--tiny]`
// splits the guided cases' time into run, surrogate and backward (see Phases.cs; --tiny: tiny networks, the fixed cost).
if (args.Length > 0 && args[0] == "--paired")
{
    var threadsAt = Array.IndexOf(args, "--threads");
    int? threads = threadsAt > 0 && threadsAt + 1 < args.Length ? int.Parse(args[threadsAt + 1], System.Globalization.CultureInfo.InvariantCulture) : null;
    var rest = args.Skip(1).Where((a, i) => a != "--cpu" && a != "--threads" && i + 1 != threadsAt + 1).ToArray();
    return Paired.Run(
        rest.Length > 0 ? int.Parse(rest[0], System.Globalization.CultureInfo.InvariantCulture) : 200, rest.Length > 1 ? rest[1] : null,
        args.Contains("--cpu"), threads, Console.Out);
}

if (args.Length > 0 && args[0] == "--phases")
    return Phases.Run(args.Length > 1 && args[1] != "--tiny" ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 200,
        args.Contains("--tiny"), Console.Out);

if (args.Contains("--dry"))
    return DryRun.Run(typeof(VaeStep).Assembly, Console.Out);

BenchmarkSwitcher.FromAssembly(typeof(VaeStep).Assembly).Run(args, BenchConfig.Create());
return 0;
