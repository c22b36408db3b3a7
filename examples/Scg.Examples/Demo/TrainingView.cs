using System;
using System.Diagnostics;
using Scg.Linq;
using Spectre.Console;

namespace Scg.Examples.Demo;

/// <summary>
/// Shows training as it goes: a Spectre.Console progress bar (step, ELBO per digit, time) on a terminal, plain
/// lines every <see cref="PlainEvery"/> otherwise (CI logs). Progress is the larger of the share of steps done
/// and the share of the time budget spent.
/// </summary>
internal sealed class TrainingView(int totalSteps, TimeSpan budget, int batchSize)
{
    private static readonly TimeSpan PlainEvery = TimeSpan.FromSeconds(15);
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly TimeSpan cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
    private TimeSpan lastLine = TimeSpan.Zero;
    private int lastLineStep = -1;
    private ProgressTask? bar;

    /// <summary>Steps done so far.</summary>
    public int Steps { get; private set; }

    /// <summary>A moving average (decay 0.98) of the training ELBO per digit.</summary>
    public double SmoothedElbo { get; private set; } = double.NaN;

    /// <summary>CPU time this process has used since the view was made (all threads).</summary>
    public TimeSpan CpuTime => Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart;

    /// <summary>Time since the view was made.</summary>
    public TimeSpan Elapsed => clock.Elapsed;

    public static bool Interactive => !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Runs <paramref name="train"/> under a progress bar, or with plain lines.</summary>
    public void Run(Action train)
    {
        if (!Interactive)
        {
            Console.WriteLine($"training: up to {totalSteps} steps or {budget.TotalMinutes:0.##} min");
            train();
            if (lastLineStep != Steps) PlainLine();
            return;
        }
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                     new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                bar = context.AddTask(Describe(), maxValue: 1.0);
                train();
                bar.Description = Describe();
                bar.Value = 1.0;
            });
    }

    /// <summary>Takes one step's report (Training.Fit's OnStep, on the training thread).</summary>
    public void Report(TrainingStep value)
    {
        Steps = value.Step + 1;
        var elbo = -value.Cost / batchSize;
        SmoothedElbo = double.IsNaN(SmoothedElbo) ? elbo : 0.98 * SmoothedElbo + 0.02 * elbo;
        var done = Math.Max((double)Steps / totalSteps, clock.Elapsed / budget);
        if (bar is not null)
        {
            bar.Value = Math.Min(done, 1.0);
            if (Steps % 10 == 0) bar.Description = Describe();
        }
        else if (clock.Elapsed - lastLine >= PlainEvery) PlainLine();
    }

    private void PlainLine()
    {
        lastLine = clock.Elapsed;
        lastLineStep = Steps;
        Console.WriteLine($"step {Steps,6}  ELBO {SmoothedElbo,9:F2} nats/digit  {clock.Elapsed:mm\\:ss}  {Steps / Math.Max(1e-9, clock.Elapsed.TotalSeconds),6:F1} steps/s");
    }

    private string Describe() => $"step {Steps,6}  ELBO {SmoothedElbo,8:F2}";
}
