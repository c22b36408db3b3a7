using System;
using System.Runtime.InteropServices;

namespace Scg.Benchmarks;

/// <summary>
/// The CPU time this process has used (all its threads), from <c>clock_gettime(CLOCK_PROCESS_CPUTIME_ID)</c>,
/// with nanosecond resolution. Unlike wall-clock time it does not count the time the process waits for a core, so
/// on a VM shared with other work it measures the work a step does rather than how long it waited (Linux only).
/// </summary>
internal static class CpuClock
{
    private const int ProcessCpuTime = 2;   // CLOCK_PROCESS_CPUTIME_ID on Linux

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    /// <summary>The process's CPU time so far, in microseconds.</summary>
    public static double Microseconds()
    {
        if (ClockGetTime(ProcessCpuTime, out var t) != 0)
            throw new InvalidOperationException("clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed: --cpu needs Linux.");
        return t.Seconds * 1e6 + t.Nanoseconds * 1e-3;
    }
}
