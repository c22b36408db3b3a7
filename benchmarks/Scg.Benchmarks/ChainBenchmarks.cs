using BenchmarkDotNet.Attributes;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.Benchmarks;

/// <summary>
/// Issue 4 (1b): one gradient step (forward, surrogate, backward) of a chain of T Bernoulli sites, 64 chains
/// batched in a plate, through Scg (with and without argument validation) versus hand-written TorchSharp.
/// One intra-op thread: the chain is bound by per-op overhead, where a second thread only adds noise.
/// </summary>
[BenchmarkCategory("Overhead")]
public class ChainStep
{
    private const long Chains = 64;
    private HandChain hand = null!;
    private ScgChain scg = null!, scgValidated = null!;
    private Generator[] generators = [];

    [Params(10, 100, 1000, 10000)]
    public int T { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(1);
        using (var g1 = new Generator(5, CPU))
        using (var g2 = new Generator(5, CPU))
        {
            var p1 = new ChainParams(T, 1);
            var p2 = new ChainParams(T, 1);
            EquivalenceCheck.Compare($"chain T={T}",
                new HandChain(p1, Chains, g1).Objective, p1.All,
                new ScgChain(p2, Chains, g2, validate: true).Objective, p2.All);
        }
        generators = [new Generator(9, CPU), new Generator(9, CPU), new Generator(9, CPU)];
        hand = new HandChain(new ChainParams(T, 1), Chains, generators[0]);
        scg = new ScgChain(new ChainParams(T, 1), Chains, generators[1], validate: false);
        scgValidated = new ScgChain(new ChainParams(T, 1), Chains, generators[2], validate: true);
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
