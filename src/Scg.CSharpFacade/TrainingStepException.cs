using System;

namespace Scg.Linq;

/// <summary>
/// A training step failed: the message starts with the step's number, and <see cref="Exception.InnerException"/>
/// holds the original error (a bad site, a non-finite cost, a native error) when there was one.
/// </summary>
public sealed class TrainingStepException : InvalidOperationException
{
    /// <summary>A step failed for the reason given.</summary>
    /// <param name="step">The step's number, from 0.</param>
    /// <param name="reason">What went wrong, and what to do.</param>
    /// <param name="inner">The original error, or null.</param>
    public TrainingStepException(int step, string reason, Exception? inner = null)
        : base($"Training step {step}: {reason}", inner) => Step = step;

    /// <summary>The number of the step that failed.</summary>
    public int Step { get; }
}
