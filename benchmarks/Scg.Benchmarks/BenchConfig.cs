using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Scg.Benchmarks;

/// <summary>
/// The configuration every benchmark runs with. The in-process toolchain runs the benchmarks inside this
/// process: BenchmarkDotNet's default toolchain would generate and build a separate project in a temporary
/// folder, outside this repository's Directory.Build.targets (which fixes TorchSharp's native library on
/// systems whose libstdc++ is too old; see docs/native-loading.md).
/// </summary>
internal static class BenchConfig
{
    public static IConfig Create()
    {
        var job = Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(10)
            .WithId("InProcess");
        return DefaultConfig.Instance
            .AddJob(job.AsDefault())
            .AddColumn(StatisticColumn.Median)
            .AddExporter(new ExponentExporter())
            .WithOrderer(new BenchmarkDotNet.Order.DefaultOrderer(BenchmarkDotNet.Order.SummaryOrderPolicy.Declared))
            .WithSummaryStyle(SummaryStyle.Default.WithRatioStyle(RatioStyle.Value));
    }
}

/// <summary>
/// Fits, for every benchmark method with a parameter <c>N</c>, the least-squares slope of log(mean time) and of
/// log(allocated bytes per operation) against log N: the empirical exponent (1 = linear). Written to the log and
/// to <c>*-exponents.md</c> in the results folder.
/// </summary>
internal sealed class ExponentExporter : IExporter
{
    public string Name => "exponents";

    public IEnumerable<string> ExportToFiles(Summary summary, ILogger consoleLogger)
    {
        if (!summary.Reports.Any(r => r.BenchmarkCase.Parameters.Items.Any(p => p.Name == "N"))) return [];
        ExportToLog(summary, consoleLogger);
        var path = Path.Combine(summary.ResultsDirectoryPath, $"{summary.Title}-exponents.md");
        using (var file = new StreamWriter(path))
            ExportToLog(summary, new StreamLogger(file));
        return [path];
    }

    public void ExportToLog(Summary summary, ILogger logger)
    {
        var rows = new List<string>();
        var groups = summary.Reports
            .Where(r => r.ResultStatistics is not null && r.BenchmarkCase.Parameters.Items.Any(p => p.Name == "N"))
            .GroupBy(r => (r.BenchmarkCase.Descriptor.Type.Name, r.BenchmarkCase.Descriptor.WorkloadMethodDisplayInfo));
        foreach (var g in groups)
        {
            var points = g.Select(r => (
                    N: Convert.ToDouble(r.BenchmarkCase.Parameters["N"], CultureInfo.InvariantCulture),
                    Ns: r.ResultStatistics!.Mean,
                    Bytes: r.GcStats.GetBytesAllocatedPerOperation(r.BenchmarkCase)))
                .OrderBy(p => p.N).ToList();
            if (points.Count < 2) continue;
            var time = Slope(points.Select(p => (p.N, p.Ns)));
            var bytes = points.All(p => p.Bytes is > 0) ? Slope(points.Select(p => (p.N, (double)p.Bytes!.Value))) : double.NaN;
            var perSite = string.Join(", ", points.Select(p => $"{p.Ns / 1000 / p.N:F2}"));
            rows.Add($"| {g.Key.Name} | {g.Key.WorkloadMethodDisplayInfo} | {points.First().N:G}–{points.Last().N:G} | {time:F3} | {(double.IsNaN(bytes) ? "–" : bytes.ToString("F3", CultureInfo.InvariantCulture))} | {perSite} |");
        }
        if (rows.Count == 0) return;
        logger.WriteLine();
        logger.WriteLineHeader("Fitted exponents (least-squares slope of log y against log N; 1 = linear)");
        logger.WriteLine("| class | benchmark | N | time exponent | allocation exponent | µs per site at each N |");
        logger.WriteLine("|---|---|---|---|---|---|");
        foreach (var r in rows) logger.WriteLine(r);
    }

    /// <summary>The least-squares slope of log y against log x.</summary>
    public static double Slope(IEnumerable<(double X, double Y)> points)
    {
        var logs = points.Select(p => (X: Math.Log(p.X), Y: Math.Log(p.Y))).ToList();
        var mx = logs.Average(p => p.X);
        var my = logs.Average(p => p.Y);
        var sxy = logs.Sum(p => (p.X - mx) * (p.Y - my));
        var sxx = logs.Sum(p => (p.X - mx) * (p.X - mx));
        return sxy / sxx;
    }
}
