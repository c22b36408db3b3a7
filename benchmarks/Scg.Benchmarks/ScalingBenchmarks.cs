using System.Linq;
using BenchmarkDotNet.Attributes;
using Scg.Distributions;
using Scg.Estimators;
using Scg.Interpretation;
using Scg.Linq;
using Scg.Tracing;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.Benchmarks;

/// <summary>
/// Issue 4 (2): time and managed allocations of trace recording (Interpreter.Sample) and of surrogate
/// construction (Surrogate.Build on a recorded trace) against the number N of sample sites. Two shapes:
/// <list type="bullet">
/// <item><b>Chain</b>: N scalar Bernoulli sites in sequence (Model.Repeat), each followed by its cost. Under the
/// dense rule every node is downstream of every earlier site: about N² edges.</item>
/// <item><b>Zip</b>: N independent (site, cost) pairs in one Model.Zip product: N edges.</item>
/// <item><b>Zip, one enumerated</b>: the same product with the first site enumerated, so that the surrogate is the
/// enumerated construction and its reverse walk hands every branch the expectation over that site.</item>
/// </list>
/// Validation is off, so the sampling and bookkeeping are what is measured. Allocations are managed bytes
/// (trace records, closures, tensor handles), not libtorch's native memory. The exponent exporter
/// (<see cref="ExponentExporter"/>) fits log time and log bytes against log N.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("Scaling")]
public class Scaling
{
    private static readonly Scalar Target = 0.3;
    private Model<Tensor> chain = null!;
    private Model<System.Collections.Generic.IReadOnlyList<Tensor>> zip = null!;
    private Trace chainTrace = null!, zipTrace = null!, enumeratedZipTrace = null!;
    private Tensor[] thetas = [];
    private Generator generator = null!;
    private RunOptions options = null!;

    [Params(10, 100, 1000, 10000)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(1);
        generator = new Generator(3, CPU);
        options = new RunOptions { Generator = generator, ValidateArguments = false };
        // Parameters and the two recorded traces live outside any dispose scope, for the whole benchmark.
        torch.manual_seed(1);
        var theta = randn(N).requires_grad_(true);
        thetas = theta.unbind();
        var sites = Enumerable.Range(0, N).Select(i => $"x{i}").ToArray();
        var costs = Enumerable.Range(0, N).Select(i => $"c{i}").ToArray();
        Model<Tensor> Pair(int i, Tensor logit, SiteEstimator? estimator = null) =>
            from x in Model.Sample(sites[i], Bernoulli.FromLogits(logit), estimator)
            from c in Model.Cost(costs[i], (x - Target).square())
            select x;
        chain = Model.Repeat(N, zeros([]), (_, t) => Pair(t, thetas[t]));
        zip = Model.Zip(Enumerable.Range(0, N).Select(i => Pair(i, thetas[i])));
        chainTrace = Interpreter.Sample(chain, options).Trace;
        zipTrace = Interpreter.Sample(zip, options).Trace;
        var enumeratedZip = Model.Zip(Enumerable.Range(0, N).Select(i => Pair(i, thetas[i], i == 0 ? SiteEstimator.Enumerate : null)));
        enumeratedZipTrace = Interpreter.Sample(enumeratedZip, options with { MaxPlateNesting = 0 }).Trace;
    }

    [GlobalCleanup]
    public void Cleanup() => generator.Dispose();

    /// <summary>
    /// The tensor work of one recording without Scg (the same sampling, log-probability and cost ops per site,
    /// with cached scalars): the floor under "record chain", and a check of how TorchSharp itself scales.
    /// </summary>
    [Benchmark(Description = "torch ops only")]
    public float TorchOpsOnly()
    {
        using var scope = NewDisposeScope();
        Tensor last = null!;
        for (var t = 0; t < N; t++)
        {
            Tensor x, sign;
            using (no_grad())
            {
                x = bernoulli(thetas[t].sigmoid(), generator);
                sign = x.mul(ChainParams.Two).sub_(ChainParams.One);
            }
            var lp = nn.functional.logsigmoid(sign * thetas[t]);
            last = (x - Target).square() + lp;
        }
        return last.item<float>();
    }

    [Benchmark(Description = "record chain")]
    public int RecordChain()
    {
        using var scope = NewDisposeScope();
        return Interpreter.Sample(chain, options).Trace.Nodes.Length;
    }

    [Benchmark(Description = "record zip")]
    public int RecordZip()
    {
        using var scope = NewDisposeScope();
        return Interpreter.Sample(zip, options).Trace.Nodes.Length;
    }

    [Benchmark(Description = "surrogate chain")]
    public float SurrogateChain()
    {
        using var scope = NewDisposeScope();
        return Surrogate.Build(chainTrace).Cost.item<float>();
    }

    [Benchmark(Description = "surrogate zip")]
    public float SurrogateZip()
    {
        using var scope = NewDisposeScope();
        return Surrogate.Build(zipTrace).Cost.item<float>();
    }

    [Benchmark(Description = "surrogate zip, one enumerated")]
    public float SurrogateZipOneEnumerated()
    {
        using var scope = NewDisposeScope();
        return Surrogate.Build(enumeratedZipTrace).Cost.item<float>();
    }
}
