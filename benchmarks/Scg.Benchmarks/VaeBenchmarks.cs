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

    /// <summary>The hand-written step.</summary>
    private protected abstract IVaeStep MakeHand(VaeNets nets, Tensor x, Generator generator);

    /// <summary>The Scg step.</summary>
    private protected abstract IVaeStep MakeScg(VaeNets nets, Tensor x, Generator generator, bool validate);

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(Threads);
        var x = VaeNets.Data(Batch, seed: 7);
        Check(x);
        generators = [new Generator(11, CPU), new Generator(11, CPU), new Generator(11, CPU)];
        hand = MakeHand(new VaeNets(3), x, generators[0]);
        scg = MakeScg(new VaeNets(3), x, generators[1], validate: false);
        scgValidated = MakeScg(new VaeNets(3), x, generators[2], validate: true);
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

    private protected override IVaeStep MakeHand(VaeNets nets, Tensor x, Generator generator) => new HandVae(nets, x, generator);

    private protected override IVaeStep MakeScg(VaeNets nets, Tensor x, Generator generator, bool validate) => new ScgVae(nets, x, generator, validate);
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

    private protected override IVaeStep MakeHand(VaeNets nets, Tensor x, Generator generator) => new HandVaeLoo(nets, x, K, generator);

    private protected override IVaeStep MakeScg(VaeNets nets, Tensor x, Generator generator, bool validate) => new ScgVaeLoo(nets, x, K, generator, validate);
}

/// <summary>
/// Issue 9: y summed out exactly over its 10 classes, through Scg (y enumerated, <c>RunOptions.Estimators</c>) versus
/// the same objective written in TorchSharp on a [10, B] batch.
/// </summary>
[BenchmarkCategory("Overhead")]
public class VaeEnumStep : VaeComparison
{
    private protected override void Check(Tensor x) => EquivalenceCheck.VaeEnum(x);

    private protected override IVaeStep MakeHand(VaeNets nets, Tensor x, Generator generator) => new HandVaeEnum(nets, x, generator);

    private protected override IVaeStep MakeScg(VaeNets nets, Tensor x, Generator generator, bool validate) => new ScgVaeEnum(nets, x, generator, validate);
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
