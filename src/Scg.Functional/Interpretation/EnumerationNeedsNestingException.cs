using System;

namespace Scg.Interpretation;

/// <summary>
/// Thrown inside a run that reaches an enumerated site before knowing where enumeration dimensions go; the
/// interpreter measures the plate nesting and runs the model again. Never escapes the interpreter.
/// </summary>
internal sealed class EnumerationNeedsNestingException() : Exception("The plate nesting is needed to place an enumerated site.");
