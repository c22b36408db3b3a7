#!/usr/bin/env dotnet
// A tour of Scg as a C# file-based app: the lecture's model in LINQ, the trace of one run, and pathwise against
// score-function gradients on one model. Run from anywhere in a clone:   dotnet run examples/tour.cs
// It builds Scg from source (the #:project line); examples/packages.cs loads the packed NuGet packages instead.
#:project ../src/Scg.CSharpFacade/Scg.CSharpFacade.csproj
#:property Nullable=enable
#:property RestorePackagesWithLockFile=false

using System;
using System.Linq;
using Scg;
using Scg.Distributions;
using Scg.Estimators;
using Scg.Interpretation;
using Scg.Linq;
using Scg.Tracing;
using TorchSharp;
using static TorchSharp.torch;

// TorchSharp may come first: the build step has made its native library loadable (docs/native-loading.md).
var probe = tensor(new[] { 1.0, 2.0 }, requires_grad: true);
(probe * probe).sum().backward();
Console.WriteLine($"d/dx Σ x² at (1, 2) = ({string.Join(", ", probe.grad!.data<double>().ToArray())})");

// The lecture's model: y ~ Categorical(softmax(logits)); z ~ Normal(μ[y], exp(log σ[y])); cost (z − target[y])² + bias[y].
var logits = tensor(new[] { 0.2f, -0.4f, 0.1f }, requires_grad: true);
var mu = tensor(new[] { -1.0f, 0.0f, 1.5f }, requires_grad: true);
var logSigma = tensor(new[] { -0.5f, 0.0f, 0.3f }, requires_grad: true);
var target = tensor(new[] { 0.5f, -0.5f, 1.0f });
var bias = tensor(new[] { 0.0f, 0.3f, -0.2f });
Model<Tensor> Lecture() =>
    from y in Model.Sample("y", Categorical.FromLogits(logits))
    let scale = logSigma[y].exp()
    from z in Model.Sample("z", new Normal(mu[y], scale))
    from loss in Model.Cost("loss", (z - target[y]).square() + bias[y])
    select z;

var run = Interpreter.Sample(Lecture(), new RunOptions { Seed = 1 });
Console.WriteLine(TraceFormat.ToText(run.Trace));
Console.WriteLine(TraceFormat.ToMermaid(run.Trace));

var particles = Interpreter.Sample(Lecture(), new RunOptions { Seed = 2, Particles = 256 });
var objective = Surrogate.Build(particles.Trace);
objective.Surrogate.backward();
Console.WriteLine($"mean cost {objective.Cost.item<float>():F3}; ∂/∂μ = ({string.Join(", ", mu.grad!.data<float>().ToArray().Select(v => v.ToString("F3")))})");

// Pathwise against score function: z ~ Normal(θ, 1), cost (z − 1)², exact gradient 2(θ − 1) = −1 at θ = 0.5.
var theta = tensor(0.5, requires_grad: true);
Model<Tensor> Gauss() =>
    from z in Model.Sample("z", new Normal(theta, tensor(1.0)))
    from c in Model.Cost("c", (z - 1.0).square())
    select z;
const int N = 2000;
foreach (var (name, estimator) in new[] { ("pathwise", SiteEstimator.Pathwise), ("score function", SiteEstimator.ScoreFunction) })
{
    using var generator = new Generator(7, CPU);
    var options = new RunOptions { Generator = generator, Estimators = EstimatorOverrides.None.For("z", estimator) };
    var values = new double[N];
    for (var i = 0; i < N; i++)
    {
        using var scope = NewDisposeScope();
        var surrogate = Surrogate.Build(Interpreter.Sample(Gauss(), options).Trace).Surrogate;
        values[i] = torch.autograd.grad([surrogate], [theta])[0].item<double>();
    }
    var mean = values.Average();
    var variance = values.Sum(v => (v - mean) * (v - mean)) / (N - 1);
    Console.WriteLine($"{name,-15} mean {mean,7:F3} ± {Math.Sqrt(variance / N):F3}, variance {variance,7:F3} (exact gradient -1)");
}
