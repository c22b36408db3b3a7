namespace Scg.Interpretation;

/// <summary>The outcome of running a model: the value it returned and the trace it recorded.</summary>
/// <typeparam name="T">The model's value type.</typeparam>
/// <param name="Value">The value the model returned.</param>
/// <param name="Trace">The record of the run.</param>
public sealed record RunResult<T>(T Value, Tracing.Trace Trace);
