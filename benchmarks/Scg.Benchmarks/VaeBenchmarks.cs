using System;
using System.Linq;
using BenchmarkDotNet.Attributes;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.Benchmarks;

/// <summary>
/// Issue 4 (1a): one gradient step (forward, surrogate, backward, Adam) of the structured VAE at batch 128,
/// through Scg versus the same estimator written directly in TorchSharp; y's baseline is a moving average
/// (issue 8: Scg's <c>Baseline.MovingAverage</c> against one kept by hand). The ratio column is Scg / hand-written.
/// </summary>
[BenchmarkCategory("Overhead")]
public class VaeStep
{
    private const int Batch = 128;
    private IVaeStep hand = null!, scg = null!, scgValidated = null!;
    private Generator[] generators = [];

    /// <summary>TorchSharp intra-op threads (the VAE is matrix-bound, so a second thread helps).</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(Threads);
        var x = VaeNets.Data(Batch, seed: 7);
        EquivalenceCheck.Vae(x);
        generators = [new Generator(11, CPU), new Generator(11, CPU), new Generator(11, CPU)];
        hand = new HandVae(new VaeNets(3), x, generators[0]);
        scg = new ScgVae(new VaeNets(3), x, generators[1], validate: false);
        scgValidated = new ScgVae(new VaeNets(3), x, generators[2], validate: true);
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
/// Issue 8 (5): one gradient step of the structured VAE at batch 128 from K = 4 vectorised particles, y with the
/// leave-one-out baseline, through Scg (RunOptions.Particles) versus the same estimator written in TorchSharp.
/// </summary>
[BenchmarkCategory("Overhead")]
public class VaeLooStep
{
    private const int Batch = 128;

    /// <summary>The number of particles.</summary>
    public const int K = 4;

    private IVaeStep hand = null!, scg = null!, scgValidated = null!;
    private Generator[] generators = [];

    /// <summary>TorchSharp intra-op threads.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(Threads);
        var x = VaeNets.Data(Batch, seed: 7);
        EquivalenceCheck.VaeLoo(x, K);
        generators = [new Generator(11, CPU), new Generator(11, CPU), new Generator(11, CPU)];
        hand = new HandVaeLoo(new VaeNets(3), x, K, generators[0]);
        scg = new ScgVaeLoo(new VaeNets(3), x, K, generators[1], validate: false);
        scgValidated = new ScgVaeLoo(new VaeNets(3), x, K, generators[2], validate: true);
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
/// Issue 9: one gradient step of the structured VAE at batch 128 with y summed out exactly over its 10 classes,
/// through Scg (y enumerated, <c>RunOptions.Estimators</c>) versus the same objective written in TorchSharp on a
/// [10, B] batch.
/// </summary>
[BenchmarkCategory("Overhead")]
public class VaeEnumStep
{
    private const int Batch = 128;
    private IVaeStep hand = null!, scg = null!, scgValidated = null!;
    private Generator[] generators = [];

    /// <summary>TorchSharp intra-op threads.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(Threads);
        var x = VaeNets.Data(Batch, seed: 7);
        EquivalenceCheck.VaeEnum(x);
        generators = [new Generator(11, CPU), new Generator(11, CPU), new Generator(11, CPU)];
        hand = new HandVaeEnum(new VaeNets(3), x, generators[0]);
        scg = new ScgVaeEnum(new VaeNets(3), x, generators[1], validate: false);
        scgValidated = new ScgVaeEnum(new VaeNets(3), x, generators[2], validate: true);
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
