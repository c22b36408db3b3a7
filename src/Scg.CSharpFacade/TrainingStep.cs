namespace Scg.Linq;

/// <summary>What a training loop reports after each step.</summary>
/// <param name="Step">The step number, from 0.</param>
/// <param name="Cost">The plain objective of the step (the sum of its costs, averaged over particles).</param>
public sealed record TrainingStep(int Step, double Cost);
