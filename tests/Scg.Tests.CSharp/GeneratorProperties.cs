using System;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;
using Scg.Estimators;
using Scg.Interpretation;
using Scg.Verification;

namespace Scg.Tests.CSharp;

/// <summary>
/// Property tests written in C# with the random-graph arbitraries of Scg.Verification.FsCheck and FsCheck's C# API:
/// the code that docs/verification-generators.md shows in an xunit test, run here from the F# tests.
/// </summary>
public static class GeneratorProperties
{
    /// <summary>
    /// Deterministic: with every site enumerated, a run's reported cost and its surrogate's gradient equal the exact
    /// objective and gradient of the graph (1e-9 relative; no false alarms).
    /// </summary>
    public static Property EnumeratedRunIsExact() =>
        Prop.ForAll(ScgArbitraries.EnumerableGraph(), graph =>
        {
            var parameters = graph.CreateParameters();
            var model = graph.ModelWith(parameters, particles: 0, graph.PlateNesting, (site, chosen) => SiteEstimator.Enumerate);
            var trace = Interpreter.Sample(model, new RunOptions { MaxPlateNesting = graph.PlateNesting }).Trace;
            var built = Surrogate.Build(trace);
            var gradient = RandomGraph.GradientOf(built.Surrogate, parameters);
            var exact = graph.ExactGradient;
            var ok = Close(built.Cost.item<double>(), graph.ExactObjective);
            for (var i = 0; i < exact.Length; i++) ok &= Close(gradient[i], exact[i]);
            return ok.Label($"cost {built.Cost.item<double>()} vs J = {graph.ExactObjective}, " +
                            $"gradient [{string.Join(", ", gradient)}] vs [{string.Join(", ", exact)}]");
        });

    /// <summary>
    /// Statistical: the default surrogate's mean gradient over 30 runs of 200 particles matches the exact gradient
    /// (|z| &lt; 5 per parameter: false-alarm rate 5.7e-7 per parameter, below 3 × 5.7e-7 per graph).
    /// </summary>
    public static Property SurrogateMatchesOracle() =>
        Prop.ForAll(ScgArbitraries.PlatedGraph(GeneratorOptions.Small), graph =>
        {
            var check = GradientCheck.Run(graph, trace => Surrogate.Build(trace).Surrogate, runs: 30, particles: 200, seed: graph.Seed);
            return check.Passed.Label(check.ToString());
        });

    /// <summary>Checks a property on <paramref name="maxTest"/> graphs drawn from a fixed seed; throws on failure.</summary>
    public static void Check(Property property, int maxTest, ulong seed) =>
        FsCheck.Check.One(
            Config.QuickThrowOnFailure
                .WithMaxTest(maxTest)
                .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(seed, 977UL), FSharpOption<int>.None))),
            property);

    private static bool Close(double a, double b) => Math.Abs(a - b) <= 1e-9 * (1.0 + Math.Max(Math.Abs(a), Math.Abs(b)));
}
