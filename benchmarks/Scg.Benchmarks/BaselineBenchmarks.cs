using BenchmarkDotNet.Attributes;
using Scg.Estimators;
using Scg.Interpretation;
using Scg.Tracing;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.Benchmarks;

/// <summary>
/// Issue 8 (5): what a baseline adds to surrogate construction. <c>Surrogate.Build</c> alone on a trace of the
/// structured VAE (batch 128) recorded once in setup: y without a baseline and with the moving average, and with
/// K = 4 particles without a baseline and with leave-one-out. The differences are the baselines' own cost per
/// step, to set against a VAE step of several milliseconds. Validation off; one thread.
/// </summary>
[BenchmarkCategory("Baselines")]
public class BaselineSurrogate
{
    private const int Batch = 128, K = 4;
    private Trace plain = null!, movingAverage = null!, particles = null!, leaveOneOut = null!;
    private Generator generator = null!;

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(1);
        var x = VaeNets.Data(Batch, seed: 7);
        var nets = new VaeNets(3);
        var priorLoc = zeros(Batch, VaeNets.Latent);
        var priorScale = ones(Batch, VaeNets.Latent);
        generator = new Generator(3, CPU);
        var store = new ParamStore();
        Trace Record(SiteEstimator y, int k) => Interpreter.Sample(
            VaeModel.Build(nets, x, priorLoc, priorScale, y, particles: k > 0),
            new RunOptions { Generator = generator, Params = store, Particles = k, MaxPlateNesting = 1, ValidateArguments = false }).Trace;
        plain = Record(SiteEstimator.ScoreFunction, 0);
        movingAverage = Record(SiteEstimator.ScoreFunction.WithBaseline(Baseline.MovingAverage(0.9)), 0);
        particles = Record(SiteEstimator.ScoreFunction, K);
        leaveOneOut = Record(SiteEstimator.ScoreFunction.WithBaseline(Baseline.LeaveOneOut), K);
    }

    [GlobalCleanup]
    public void Cleanup() => generator.Dispose();

    [Benchmark(Baseline = true, Description = "no baseline")]
    public float Plain() => Build(plain);

    [Benchmark(Description = "moving average")]
    public float MovingAverage() => Build(movingAverage);

    [Benchmark(Description = "K = 4, no baseline")]
    public float Particles() => Build(particles);

    [Benchmark(Description = "K = 4, leave-one-out")]
    public float LeaveOneOut() => Build(leaveOneOut);

    private static float Build(Trace trace)
    {
        using var scope = NewDisposeScope();
        return Surrogate.Build(trace).Surrogate.item<float>();
    }
}
