using System;
using System.Linq;
using BenchmarkDotNet.Attributes;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.Benchmarks;

/// <summary>
/// One gradient step (forward, surrogate, backward, Adam) of a structured-VAE variant at batch 128, hand-written
/// against Scg and Scg with validation, after an equivalence check; the subclasses say which variant. The ratio
/// column is Scg / hand-written.
/// </summary>
public abstract class VaeComparison
{
    /// <summary>The data batch size.</summary>
    protected const int Batch = 128;

    private IVaeStep hand = null!, scg = null!, scgValidated = null!;
    private Generator[] generators = [];

    /// <summary>TorchSharp intra-op threads (the VAE is matrix-bound, so a second thread helps).</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>Checks that both sides compute the same estimator on <paramref name="x"/>.</summary>
    private protected abstract void Check(Tensor x);

    /// <summary>The hand-written step, its networks initialised from <paramref name="seed"/>.</summary>
    private protected abstract IVaeStep MakeHand(long seed, Tensor x, Generator generator);

    /// <summary>The Scg step, its networks initialised from <paramref name="seed"/>.</summary>
    private protected abstract IVaeStep MakeScg(long seed, Tensor x, Generator generator, bool validate);

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(Threads);
        var x = VaeNets.Data(Batch, seed: 7);
        Check(x);
        generators = [new Generator(11, CPU), new Generator(11, CPU), new Generator(11, CPU)];
        hand = MakeHand(3, x, generators[0]);
        scg = MakeScg(3, x, generators[1], validate: false);
        scgValidated = MakeScg(3, x, generators[2], validate: true);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var g in generators) g.Dispose();
    }

    [Benchmark(Baseline = true, Description = "hand-written")]
    public float Hand() => hand.Step();

    [Benchmark(Description = "Scg")]
    public float Scg() => scg.Step();

    [Benchmark(Description = "Scg, validated")]
    public float ScgValidated() => scgValidated.Step();
}

/// <summary>
/// Issue 4 (1a): the structured VAE, y's baseline a moving average (issue 8: Scg's <c>Baseline.MovingAverage</c>
/// against one kept by hand).
/// </summary>
[BenchmarkCategory("Overhead")]
public class VaeStep : VaeComparison
{
    private protected override void Check(Tensor x) => EquivalenceCheck.Vae(x);

    private protected override IVaeStep MakeHand(long seed, Tensor x, Generator generator) => new HandVae(new VaeNets(seed), x, generator);

    private protected override IVaeStep MakeScg(long seed, Tensor x, Generator generator, bool validate) => new ScgVae(new VaeNets(seed), x, generator, validate);
}

/// <summary>
/// Issue 8 (5): K = 4 vectorised particles, y with the leave-one-out baseline, through Scg (RunOptions.Particles)
/// versus the same estimator written in TorchSharp.
/// </summary>
[BenchmarkCategory("Overhead")]
public class VaeLooStep : VaeComparison
{
    /// <summary>The number of particles.</summary>
    public const int K = 4;

    private protected override void Check(Tensor x) => EquivalenceCheck.VaeLoo(x, K);

    private protected override IVaeStep MakeHand(long seed, Tensor x, Generator generator) => new HandVaeLoo(new VaeNets(seed), x, K, generator);

    private protected override IVaeStep MakeScg(long seed, Tensor x, Generator generator, bool validate) => new ScgVaeLoo(new VaeNets(seed), x, K, generator, validate);
}

/// <summary>
/// Issue 9: y summed out exactly over its 10 classes, through Scg (y enumerated, <c>RunOptions.Estimators</c>) versus
/// the same objective written in TorchSharp on a [10, B] batch.
/// </summary>
[BenchmarkCategory("Overhead")]
public class VaeEnumStep : VaeComparison
{
    private protected override void Check(Tensor x) => EquivalenceCheck.VaeEnum(x);

    private protected override IVaeStep MakeHand(long seed, Tensor x, Generator generator) => new HandVaeEnum(new VaeNets(seed), x, generator);

    private protected override IVaeStep MakeScg(long seed, Tensor x, Generator generator, bool validate) => new ScgVaeEnum(new VaeNets(seed), x, generator, validate);
}

/// <summary>
/// Issue 10: the structured VAE's ELBO through the objective API (a guide and a model combined by <c>Guided.Pair</c>,
/// <c>Surrogate.Build</c>, <c>IObjective.Loss</c>), y's baseline a moving average, against the hand-written step of
/// <see cref="VaeStep"/> (the same negative ELBO per data point, the same estimator).
/// </summary>
[BenchmarkCategory("Overhead")]
public class VaeGuidedStep : VaeComparison
{
    private protected override void Check(Tensor x) => EquivalenceCheck.VaeGuided(x);

    private protected override IVaeStep MakeHand(long seed, Tensor x, Generator generator) => new HandVae(new VaeNets(seed), x, generator);

    private protected override IVaeStep MakeScg(long seed, Tensor x, Generator generator, bool validate) => new ScgVaeGuided(new VaeNets(seed), x, generator, validate);
}

/// <summary>
/// Issue 10: the importance-weighted bound with K = 8 vectorised particles (a Normal guide q(z | x), a Bernoulli
/// decoder, everything pathwise) through <c>Guided.Pair</c>, <c>RunOptions.Particles</c> and <c>Iwae.Build</c>,
/// against the same bound written in TorchSharp.
/// </summary>
[BenchmarkCategory("Overhead")]
public class IwaeStep : VaeComparison
{
    /// <summary>The number of particles.</summary>
    public const int K = 8;

    private protected override void Check(Tensor x) => EquivalenceCheck.Iwae(x, K);

    private protected override IVaeStep MakeHand(long seed, Tensor x, Generator generator) => new HandIwae(new IwaeNets(seed), x, K, generator);

    private protected override IVaeStep MakeScg(long seed, Tensor x, Generator generator, bool validate) => new ScgIwae(new IwaeNets(seed), x, K, generator, validate);
}

/// <summary>
/// Checks, outside the timed code, that the two sides compute the same estimator: the same surrogate value, the
/// same reported cost and the same gradient for the same noise (both draw from generators with the same seed in
/// the same order).
/// </summary>
internal static class EquivalenceCheck
{
    /// <summary>Three objectives in a row: the first without a baseline, then with the moving average of the earlier steps.</summary>
    public static void Vae(Tensor x)
    {
        using var scope = NewDisposeScope();
        using var g1 = new Generator(5, CPU);
        using var g2 = new Generator(5, CPU);
        var hand = new HandVae(new VaeNets(3), x, g1);
        var scg = new ScgVae(new VaeNets(3), x, g2, validate: true);
        for (var step = 1; step <= 3; step++)
            Compare($"VAE (moving-average baseline), objective {step}", hand.Objective, hand.Parameters().ToArray(), scg.Objective, scg.Parameters().ToArray());
    }

    /// <summary>The leave-one-out VAE with <paramref name="particles"/> particles.</summary>
    public static void VaeLoo(Tensor x, int particles)
    {
        using var scope = NewDisposeScope();
        using var g1 = new Generator(5, CPU);
        using var g2 = new Generator(5, CPU);
        var hand = new HandVaeLoo(new VaeNets(3), x, particles, g1);
        var scg = new ScgVaeLoo(new VaeNets(3), x, particles, g2, validate: true);
        for (var step = 1; step <= 2; step++)
            Compare($"VAE (leave-one-out, K = {particles}), objective {step}", hand.Objective, hand.Parameters().ToArray(), scg.Objective, scg.Parameters().ToArray());
    }

    /// <summary>The VAE with y enumerated: two objectives (the second after no update, with fresh noise).</summary>
    public static void VaeEnum(Tensor x)
    {
        using var scope = NewDisposeScope();
        using var g1 = new Generator(5, CPU);
        using var g2 = new Generator(5, CPU);
        var hand = new HandVaeEnum(new VaeNets(3), x, g1);
        var scg = new ScgVaeEnum(new VaeNets(3), x, g2, validate: true);
        for (var step = 1; step <= 2; step++)
            Compare($"VAE (y enumerated), objective {step}", hand.Objective, hand.Parameters().ToArray(), scg.Objective, scg.Parameters().ToArray());
    }

    /// <summary>The guided VAE (objective API): three objectives, as <see cref="Vae"/>.</summary>
    public static void VaeGuided(Tensor x)
    {
        using var scope = NewDisposeScope();
        using var g1 = new Generator(5, CPU);
        using var g2 = new Generator(5, CPU);
        var hand = new HandVae(new VaeNets(3), x, g1);
        var scg = new ScgVaeGuided(new VaeNets(3), x, g2, validate: true);
        for (var step = 1; step <= 3; step++)
            Compare($"VAE through Guided.Pair (moving-average baseline), objective {step}", hand.Objective, hand.Parameters().ToArray(), scg.Objective, scg.Parameters().ToArray());
    }

    /// <summary>
    /// IWAE with <paramref name="particles"/> particles: two objectives, in float64. Each log weight is a whole
    /// batch's total (about −7·10⁴), so float32 rounding alone, summed in another order, moves the particles'
    /// softmax weights, and with them the gradient, by more than the tolerance.
    /// </summary>
    public static void Iwae(Tensor x, int particles)
    {
        using var scope = NewDisposeScope();
        using var g1 = new Generator(5, CPU);
        using var g2 = new Generator(5, CPU);
        var x64 = x.to_type(ScalarType.Float64);
        var hand = new HandIwae(new IwaeNets(3, ScalarType.Float64), x64, particles, g1);
        var scg = new ScgIwae(new IwaeNets(3, ScalarType.Float64), x64, particles, g2, validate: true);
        for (var step = 1; step <= 2; step++)
            Compare($"IWAE (K = {particles}), objective {step}", hand.Objective, hand.Parameters().ToArray(), scg.Objective, scg.Parameters().ToArray());
    }

    public static void Compare(
        string what,
        Func<(Tensor Surrogate, Tensor Cost)> reference, Tensor[] referenceParams,
        Func<(Tensor Surrogate, Tensor Cost)> candidate, Tensor[] candidateParams)
    {
        using var scope = NewDisposeScope();
        var (s1, c1) = reference();
        var (s2, c2) = candidate();
        s1.backward();
        s2.backward();
        Close(what, "surrogate", s1, s2);
        Close(what, "cost", c1, c2);
        for (var i = 0; i < referenceParams.Length; i++)
        {
            Close(what, $"gradient of parameter {i}", referenceParams[i].grad!, candidateParams[i].grad!);
            referenceParams[i].grad!.zero_();
            candidateParams[i].grad!.zero_();
        }
    }

    private static void Close(string what, string quantity, Tensor expected, Tensor actual)
    {
        var e = expected.to_type(ScalarType.Float64);
        var a = actual.to_type(ScalarType.Float64);
        var err = (e - a).abs().max().item<double>();
        var scale = Math.Max(1.0, e.abs().max().item<double>());
        if (!(err <= 1e-4 * scale))
            throw new InvalidOperationException(
                $"{what}: Scg and the hand-written reference disagree on the {quantity} (max abs difference {err:G3}, scale {scale:G3}).");
    }
}
