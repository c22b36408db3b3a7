namespace Scg.Verification.Checks;

/// <summary>The check of one parameter element under one configuration.</summary>
/// <param name="Label">The element ("θ", "w[2]").</param>
/// <param name="Reference">The exact gradient, or the reference configuration's mean in a two-sample comparison.</param>
/// <param name="Mean">The mean of the N gradient estimates.</param>
/// <param name="StandardError">The standard error of that mean (of the difference, in a two-sample comparison).</param>
/// <param name="Z">(mean − reference) / standard error.</param>
/// <param name="Passed">|z| at most the report's bound.</param>
/// <param name="Variance">The variance of one estimate.</param>
/// <param name="SignalToNoise">|mean| / √variance (∞ for a constant non-zero estimate, 0 for a constant zero).</param>
public sealed record ParameterCheck(string Label, double Reference, double Mean, double StandardError, double Z, bool Passed, double Variance, double SignalToNoise);
