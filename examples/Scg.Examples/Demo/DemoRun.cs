using System;
using System.IO;
using System.Linq;
using Scg.Estimators;
using Scg.Examples.Data;
using Scg.Examples.Vae;
using Scg.Interpretation;
using Scg.Linq;
using Scg.Objectives;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.Examples.Demo;

/// <summary>The demo end to end: data, training under a budget, test metrics, pictures.</summary>
internal static class DemoRun
{
    private const int TestCount = 1000;

    public static int Run(DemoOptions o)
    {
        var data = o.Data is { } folder ? MnistSource.FromIdxFolder(folder) : MnistSource.FromNpmCache(o.Cache, line => Console.WriteLine(line));
        var (train, test) = data.Split(TestCount);
        Console.WriteLine($"data: {data.Source}; {train.Count} training and {test.Count} test digits (fixed split), binarised at 0.5");
        if (train.Size != MnistVae.Pixels)
            throw new InvalidDataException($"{data.Source}: images are {train.Rows}×{train.Columns}; the demo needs 28×28.");

        torch.manual_seed(o.Seed);   // the modules' initial weights
        var trainX = Binarise(train);
        var testX = Binarise(test);
        var vae = new MnistVae(o.Latent);
        var store = new ParamStore();
        var run = new RunOptions
        {
            Seed = (ulong)o.Seed, Params = store, ValidateArguments = false,
            Particles = o.Estimator == YEstimator.Loo ? o.Particles : (o.Particles > 1 ? o.Particles : 0),
            Estimators = EstimatorOverrides.None.For("y", o.Estimator switch
            {
                YEstimator.Enumerate => SiteEstimator.Enumerate,
                YEstimator.Loo => SiteEstimator.ScoreFunction.WithBaseline(Baseline.LeaveOneOut),
                _ => SiteEstimator.ScoreFunction.WithBaseline(Baseline.MovingAverage(decay: 0.9)),
            }),
        };
        Console.WriteLine($"y: {Describe(o)}; z: pathwise (reparameterised); minibatches of {o.BatchSize} as a plate 'data' (ELBO reported per digit); Adam, lr {o.LearningRate}");

        var perEpoch = train.Count / o.BatchSize;
        var steps = o.Epochs * perEpoch;
        var order = new int[train.Count];
        var orderEpoch = -1;
        Model<(Tensor, Tensor)> StepModel(int t)
        {
            if (t / perEpoch != orderEpoch)   // a fresh permutation per epoch, drawn from the seed
            {
                orderEpoch = t / perEpoch;
                for (var i = 0; i < order.Length; i++) order[i] = i;
                new Random(o.Seed * 1000 + orderEpoch).Shuffle(order);
            }
            var indices = order.AsSpan(t % perEpoch * o.BatchSize, o.BatchSize).ToArray().Select(i => (long)i).ToArray();
            var x = trainX.index_select(0, tensor(indices));
            return Guided.Pair(vae.Guide(x), vae.Generative(x));
        }

        var budget = TimeSpan.FromMinutes(o.Minutes);
        var view = new TrainingView(steps, budget, o.BatchSize);
        var fit = new FitOptions
        {
            Steps = steps, Budget = budget, OnStep = view.Report,
            CheckpointPath = o.Checkpoint, CheckpointEvery = o.Checkpoint is null ? 0 : 500,
        };
        FitResult? result = null;
        view.Run(() => result = Training.Fit(StepModel, store, ps => optim.Adam(ps, o.LearningRate), fit, run));
        var done = result!.StepsDone - result.FirstStep;
        var trainSeconds = result.Elapsed.TotalSeconds;
        var cpuPerStep = view.CpuTime.TotalMilliseconds / Math.Max(1, done);
        var resumed = result.FirstStep > 0 ? $" (resumed at step {result.FirstStep} from {o.Checkpoint})" : "";
        Console.WriteLine($"trained {done} steps{resumed} ({(double)result.StepsDone / perEpoch:0.#} epochs in all) in {trainSeconds:0.0} s, " +
                          $"stopped by {result.StoppedBy.ToString().ToLowerInvariant()}: {done / trainSeconds:0.0} steps/s, {cpuPerStep:0} ms CPU time per step");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var metrics = Evaluation.Measure(vae, store, testX, test.Labels, (ulong)o.Seed + 1);
        Console.WriteLine($"evaluated in {clock.Elapsed.TotalSeconds:0.0} s");
        Directory.CreateDirectory(o.Out);
        WritePictures(vae, testX, metrics, o);
        var summary =
            $"test ELBO              {metrics.Elbo:F2} nats per digit (y enumerated)\n" +
            $"test log p(x) ≥ IWAE   {metrics.Iwae:F2} nats per digit (K = {metrics.IwaeParticles})\n" +
            $"accuracy of q(y | x)   {metrics.Accuracy:P1} (clusters matched one-to-one to digits: {string.Join(" ", metrics.DigitOfCluster)})\n" +
            $"pictures               {Path.Combine(o.Out, "reconstructions.png")}, {Path.Combine(o.Out, "samples.png")}";
        Console.WriteLine(summary);
        File.WriteAllText(Path.Combine(o.Out, "metrics.txt"),
            $"estimator {Describe(o)}\nsteps {done}\ntrain seconds {trainSeconds:0.0}\nsteps per second {done / trainSeconds:0.00}\nCPU ms per step {cpuPerStep:0.0}\n" +
            $"train ELBO (smoothed) {view.SmoothedElbo:F2}\n{summary}\n");
        return double.IsFinite(metrics.Elbo) && double.IsFinite(metrics.Iwae) ? 0 : 1;
    }

    private static string Describe(DemoOptions o) => o.Estimator switch
    {
        YEstimator.Enumerate => "enumerated (exact)",
        YEstimator.Loo => $"score function, leave-one-out baseline, K = {o.Particles}",
        _ => $"score function, moving-average baseline{(o.Particles > 1 ? $", K = {o.Particles}" : "")}",
    };

    /// <summary>
    /// The pixels as 0/1 floats. The chain runs in a dispose scope, which holds each intermediate tensor until it ends: a
    /// temporary no longer referenced from managed code could otherwise be finalized, and its memory freed, while the
    /// next operation still reads it.
    /// </summary>
    private static Tensor Binarise(DigitSet set)
    {
        using var scope = NewDisposeScope();
        return tensor(set.Pixels, [set.Count, set.Size]).gt(127).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>reconstructions.png: two pairs of rows, test digits above their reconstructions (y the most probable
    /// cluster, z the mean of q(z | x, y)); samples.png: a row per cluster, ordered by the digit it is matched to, each
    /// of ten z ~ N(0, I) decoded (pixel probabilities).</summary>
    private static void WritePictures(MnistVae vae, Tensor testX, TestMetrics metrics, DemoOptions o)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        const int columns = 12;
        var x = testX[..(2 * columns)];
        var y = vae.ClusterLogits(x).argmax(-1);
        var recon = vae.Decode(y, vae.PosteriorMean(x, y));
        var rows = new[] { x[..columns], recon[..columns], x[columns..], recon[columns..] };
        Pictures.WriteGrid(Path.Combine(o.Out, "reconstructions.png"), rows.SelectMany(Images).ToArray(), 4, columns);

        using var generator = new Generator((ulong)o.Seed + 2, CPU);
        var clusterOfDigit = new long[MnistVae.Classes];
        for (var c = 0; c < MnistVae.Classes; c++) clusterOfDigit[metrics.DigitOfCluster[c]] = c;
        var ys = tensor(clusterOfDigit).repeat_interleave(10L);
        var z = randn([ys.shape[0], vae.Latent], generator: generator);
        Pictures.WriteGrid(Path.Combine(o.Out, "samples.png"), Images(vae.Decode(ys, z)), MnistVae.Classes, 10);
    }

    private static float[][] Images(Tensor batch)
    {
        var flat = batch.contiguous().data<float>().ToArray();
        return Enumerable.Range(0, (int)batch.shape[0]).Select(i => flat.AsSpan(i * MnistVae.Pixels, MnistVae.Pixels).ToArray()).ToArray();
    }
}
