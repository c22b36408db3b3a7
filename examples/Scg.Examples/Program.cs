using System;
using Scg;
using Scg.Estimators;
using Scg.Examples;
using Scg.Interpretation;
using TorchSharp;
using static TorchSharp.torch;

// Three well-separated clusters of 2-D points (a fixed seed makes the run reproducible). Discrete latents have
// local optima: with some seeds two clusters end up sharing one y (purity near 2/3, and a visibly higher loss).
torch.manual_seed(2);
var centres = torch.tensor(new float[,] { { -3f, 0f }, { 3f, 0f }, { 0f, 4f } });
var labels = torch.randint(0, 3, 512);
var data = centres[labels] + 0.4f * torch.randn(512, 2);

var vae = new StructuredVae();
var store = new ParamStore();
using var generator = new Generator(42, CPU);
var optimizer = torch.optim.Adam(vae.Parameters(), lr: 0.02);
// The model leaves y's estimator to Auto (the score function, as y is discrete); the run adds a baseline to it
// without touching the model: a moving average of y's cost-to-go, kept in the store between steps.
var options = new RunOptions
{
    Params = store, Generator = generator,
    Estimators = EstimatorOverrides.None.For("y", SiteEstimator.ScoreFunction.WithBaseline(Baseline.MovingAverage(decay: 0.9))),
};

Console.WriteLine("step  negative ELBO per point");
for (var step = 0; step <= 1000; step++)
{
    using var scope = torch.NewDisposeScope();
    var batch = data[torch.randint(0, 512, 128, generator: generator)];
    var run = Interpreter.Sample(vae.NegativeElbo(batch), options);
    var objective = Surrogate.Build(run.Trace);
    optimizer.zero_grad();
    objective.Surrogate.backward();
    optimizer.step();
    var perPoint = objective.Cost.item<float>() / 128;
    if (step % 100 == 0) Console.WriteLine($"{step,4}  {perPoint,8:F3}");
}

// How well the discrete latent recovered the clusters: the share of points whose inferred cluster's
// majority label is their own (1/3 is chance).
using (torch.no_grad())
{
    var assigned = vae.Assign(data);
    long agree = 0;
    for (var k = 0; k < 3; k++)
    {
        var members = labels[assigned.eq(k)];
        if (members.numel() > 0) agree += members.bincount(null, 3).max().item<long>();
    }
    Console.WriteLine($"cluster purity of q(y | x): {agree / 512.0:P1}");
}
