using BenchmarkDotNet.Attributes;
using Scg.Estimators;
using Scg.Interpretation;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.Benchmarks;

/// <summary>
/// Issue 4 (3): a K-sample gradient estimate of a small model (a scalar Bernoulli chain of 10 sites with a cost
/// each) from K vectorised particles in one run (RunOptions.Particles = K, MaxPlateNesting = 0 so no dry run is
/// made) versus K sequential runs, each building its own surrogate, averaged and back-propagated once.
/// </summary>
[BenchmarkCategory("Particles")]
public class Particles
{
    private const int Steps = 10;
    private ChainParams chain = null!;
    private Generator generator = null!;
    private RunOptions vectorised = null!, single = null!;
    private Tensor x0 = null!;

    [Params(1, 8, 64, 512)]
    public int K { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(1);
        chain = new ChainParams(Steps, 1);
        generator = new Generator(4, CPU);
        x0 = zeros([]);
        vectorised = new RunOptions { Generator = generator, Particles = K, MaxPlateNesting = 0, ValidateArguments = false };
        single = new RunOptions { Generator = generator, ValidateArguments = false };
    }

    [GlobalCleanup]
    public void Cleanup() => generator.Dispose();

    [Benchmark(Baseline = true, Description = "K sequential runs")]
    public float Sequential()
    {
        using var scope = NewDisposeScope();
        Tensor? sum = null, cost = null;
        for (var k = 0; k < K; k++)
        {
            var run = Interpreter.Sample(chain.Model(chain.Theta.unbind(), x0, 0), single);
            var objective = Surrogate.Build(run.Trace);
            sum = sum is null ? objective.Surrogate : sum + objective.Surrogate;
            cost = cost is null ? objective.Cost : cost + objective.Cost;
        }
        chain.ZeroGrad();
        (sum! / K).backward();
        return cost!.item<float>() / K;
    }

    [Benchmark(Description = "K vectorised particles")]
    public float Vectorised()
    {
        using var scope = NewDisposeScope();
        var run = Interpreter.Sample(chain.Model(chain.Theta.unbind(), x0, 0), vectorised);
        var objective = Surrogate.Build(run.Trace);
        chain.ZeroGrad();
        objective.Surrogate.backward();
        return objective.Cost.item<float>();
    }
}
