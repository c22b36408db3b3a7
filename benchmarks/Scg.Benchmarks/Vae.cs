using System;
using System.Collections.Generic;
using System.Linq;
using Scg.Distributions;
using Scg.Estimators;
using Scg.Interpretation;
using Scg.Linq;
using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using Sequential = TorchSharp.Modules.Sequential;
using static TorchSharp.torch;

namespace Scg.Benchmarks;

/// <summary>
/// The structured VAE of the lecture on MNIST-shaped data: per data point y ~ q(y | x) over 10 classes (score
/// function, EMA baseline), z ~ q(z | x, y) of dimension 20 (pathwise), a Bernoulli decoder over 784 pixels,
/// and the costs l_y = log q(y|x) − log p(y), l_z = log q(z|x,y) − log p(z), l_x = −log p(x | y, z).
/// </summary>
internal sealed class VaeNets
{
    public const int Pixels = 784, Classes = 10, Latent = 20, Hidden = 256;

    public Sequential EncoderY { get; }
    public Sequential EncoderZ { get; }
    public Sequential Decoder { get; }

    /// <summary>Builds the three networks; the same seed gives the same weights. Smaller <paramref name="pixels"/> and
    /// <paramref name="hidden"/> give tiny networks whose step is almost all fixed cost (<c>--phases … --tiny</c>).</summary>
    public VaeNets(long seed, int pixels = Pixels, int hidden = Hidden)
    {
        torch.manual_seed(seed);
        EncoderY = nn.Sequential(nn.Linear(pixels, hidden), nn.ReLU(), nn.Linear(hidden, Classes));
        EncoderZ = nn.Sequential(nn.Linear(pixels + Classes, hidden), nn.ReLU(), nn.Linear(hidden, 2 * Latent));
        Decoder = nn.Sequential(nn.Linear(Latent + Classes, hidden), nn.ReLU(), nn.Linear(hidden, pixels));
    }

    public IEnumerable<Parameter> Parameters() =>
        EncoderY.parameters().Concat(EncoderZ.parameters()).Concat(Decoder.parameters());

    /// <summary>A binarised MNIST-shaped batch (about 20 % ones), the same for every seed value.</summary>
    public static Tensor Data(int batch, ulong seed, int pixels = Pixels)
    {
        using var g = new Generator(seed, CPU);
        using var p = full(batch, pixels, 0.2f);
        return bernoulli(p, g);
    }
}

/// <summary>The VAE as an Scg model (LINQ), what a user writes.</summary>
internal static class VaeModel
{
    private static readonly Scalar LogPriorY = -Math.Log(VaeNets.Classes);

    /// <summary>
    /// The model over a data plate of x's batch size; y's estimator is <paramref name="yEstimator"/>, z's pathwise.
    /// With <paramref name="particles"/>, y carries the particle dimension and the data are broadcast to it for the
    /// z encoder's input (concatenation does not broadcast).
    /// </summary>
    public static Model<Tensor> Build(VaeNets nets, Tensor x, Tensor priorLoc, Tensor priorScale, SiteEstimator yEstimator, bool particles)
    {
        var prior = new Normal(priorLoc, priorScale).ToEvent(1);
        return Scg.Model.Plate("data", x.shape[0],
            from encY in Scg.Model.Module("encoderY", nets.EncoderY)
            from encZ in Scg.Model.Module("encoderZ", nets.EncoderZ)
            from dec in Scg.Model.Module("decoder", nets.Decoder)
            let qy = Categorical.FromLogits(encY.call(x))
            from y in Scg.Model.Sample("y", qy, yEstimator)
            from ly in Scg.Model.Cost("l_y", qy.LogProb(y) - LogPriorY)
            let yHot = nn.functional.one_hot(y, VaeNets.Classes).to_type(ScalarType.Float32)
            let stats = encZ.call(cat([particles ? x.expand([.. y.shape, VaeNets.Pixels]) : x, yHot], -1))
            let qz = new Normal(stats.narrow(-1, 0, VaeNets.Latent), stats.narrow(-1, VaeNets.Latent, VaeNets.Latent).exp()).ToEvent(1)
            from z in Scg.Model.Sample("z", qz, SiteEstimator.Pathwise)
            from lz in Scg.Model.Cost("l_z", qz.LogProb(z) - prior.LogProb(z))
            from lx in Scg.Model.Cost("l_x", -Bernoulli.FromLogits(dec.call(cat([z, yHot], -1))).ToEvent(1).LogProb(x))
            select lx);
    }
}

/// <summary>The training step every VAE variant shares.</summary>
internal static class VaeTraining
{
    /// <summary>One step inside a dispose scope: the objective, backward, the optimizer; returns the cost per data point.</summary>
    public static float Step(optim.Optimizer optimizer, Func<(Tensor Surrogate, Tensor Cost)> objective, long batch)
    {
        using var scope = NewDisposeScope();
        var (surrogate, cost) = objective();
        optimizer.zero_grad();
        surrogate.backward();
        optimizer.step();
        return cost.item<float>() / batch;
    }
}

/// <summary>One gradient step of the VAE, either side of the comparison.</summary>
internal interface IVaeStep
{
    /// <summary>
    /// Forward pass, surrogate and the baseline's update (no backward); returns the surrogate and the reported cost
    /// (detached: summed over data points, averaged over particles).
    /// </summary>
    (Tensor Surrogate, Tensor Cost) Objective();

    /// <summary>A full step: objective, backward, Adam; returns the cost per data point.</summary>
    float Step();

    IEnumerable<Parameter> Parameters();
}

/// <summary>
/// What a careful TorchSharp programmer writes by hand: the limit Scg is measured against. y's baseline is a scalar
/// exponential moving average (decay 0.9) of the mean per-data-point cost-to-go, kept by hand; like Scg's
/// <c>Baseline.MovingAverage</c> it starts at the first step's mean, and the first step subtracts nothing.
/// </summary>
internal sealed class HandVae : IVaeStep
{
    private static readonly Scalar Half = 0.5, Decay = 0.9;
    private readonly VaeNets nets;
    private readonly Tensor x, sign;
    private readonly Scalar logPriorY = -Math.Log(VaeNets.Classes), baselineRate;
    private readonly Generator generator;
    private readonly optim.Optimizer adam;
    private readonly Tensor baseline = zeros([]);
    private readonly long[] noiseShape;
    private bool started;

    public HandVae(VaeNets nets, Tensor x, Generator generator)
    {
        this.nets = nets;
        this.x = x;
        this.generator = generator;
        sign = x * 2.0 - 1.0;   // computed once: the data are fixed
        noiseShape = [x.shape[0], VaeNets.Latent];
        baselineRate = 0.1 / x.shape[0];
        adam = optim.Adam(nets.Parameters(), lr: 1e-3);
    }

    public IEnumerable<Parameter> Parameters() => nets.Parameters();

    public (Tensor Surrogate, Tensor Cost) Objective()
    {
        var logq = nets.EncoderY.call(x).log_softmax(-1);                  // [B, 10]
        Tensor y, eps;
        using (no_grad())
        {
            using var probs = logq.detach().exp();
            y = multinomial(probs, 1, true, generator);                     // [B, 1]
        }
        var logqY = logq.gather(-1, y).squeeze(-1);                        // [B]
        var ly = logqY - logPriorY;
        var yHot = nn.functional.one_hot(y.squeeze(-1), VaeNets.Classes).to_type(ScalarType.Float32);
        var stats = nets.EncoderZ.call(cat([x, yHot], -1));                // [B, 40]
        var loc = stats.narrow(-1, 0, VaeNets.Latent);
        var logScale = stats.narrow(-1, VaeNets.Latent, VaeNets.Latent);
        eps = randn(noiseShape, generator: generator);
        var z = loc + logScale.exp() * eps;
        // log q(z) − log p(z) with (z − loc) / scale = ε; the 2π constants cancel.
        var lz = (z.square() - eps.square()).mul(Half).sub(logScale).sum(-1);
        var lx = nn.functional.logsigmoid(sign * nets.Decoder.call(cat([z, yHot], -1))).sum(-1).neg();
        var cost = ly + lz + lx;                                           // [B]
        var q = cost.detach();
        var signal = q - baseline;                                         // zero on the first step
        var surrogate = cost.sum() + (logqY * signal).sum();
        var total = q.sum();
        using (no_grad())
        {
            if (started) baseline.mul_(Decay).add_(total, baselineRate);   // b ← 0.9 b + 0.1 mean(q)
            else baseline.copy_(total.div(x.shape[0]));
        }
        started = true;
        return (surrogate, total);
    }

    public float Step() => VaeTraining.Step(adam, Objective, x.shape[0]);
}

/// <summary>
/// The same model and estimator through Scg (LINQ model, Interpreter.Sample, Surrogate.Build): y's estimator is
/// <c>ScoreFunction.WithBaseline(Baseline.MovingAverage(0.9))</c>, whose average lives in the run's parameter store.
/// </summary>
internal sealed class ScgVae : IVaeStep
{
    private static readonly SiteEstimator YEstimator = SiteEstimator.ScoreFunction.WithBaseline(Baseline.MovingAverage(0.9));
    private readonly VaeNets nets;
    private readonly Tensor x, priorLoc, priorScale;
    private readonly optim.Optimizer adam;
    private readonly RunOptions options;

    public ScgVae(VaeNets nets, Tensor x, Generator generator, bool validate)
    {
        this.nets = nets;
        this.x = x;
        priorLoc = zeros(x.shape[0], VaeNets.Latent);
        priorScale = ones(x.shape[0], VaeNets.Latent);
        adam = optim.Adam(nets.Parameters(), lr: 1e-3);
        options = new RunOptions { Generator = generator, Params = new ParamStore(), ValidateArguments = validate };
    }

    public IEnumerable<Parameter> Parameters() => nets.Parameters();

    public (Tensor Surrogate, Tensor Cost) Objective()
    {
        var run = Interpreter.Sample(VaeModel.Build(nets, x, priorLoc, priorScale, YEstimator, particles: false), options);
        var objective = Surrogate.Build(run.Trace);
        return (objective.Surrogate, objective.Cost);
    }

    public float Step() => VaeTraining.Step(adam, Objective, x.shape[0]);
}
