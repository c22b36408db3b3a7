using System;
using System.Collections.Generic;
using Scg.Estimators;
using Scg.Interpretation;
using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using static TorchSharp.torch;

namespace Scg.Benchmarks;

/// <summary>
/// The structured VAE (<see cref="VaeNets"/>) estimated from K vectorised particles per data point: y by score
/// function with the leave-one-out baseline b_k = (Σ_j Q_j − Q_k) / (K − 1), per data point, where Q_k is particle
/// k's cost-to-go of y; z pathwise; the surrogate and the reported cost averaged over the K particles.
/// Hand-written side, in a [K, B] layout.
/// </summary>
internal sealed class HandVaeLoo : IVaeStep
{
    private static readonly Scalar Half = 0.5;
    private readonly VaeNets nets;
    private readonly Tensor x, xTiled, sign;
    private readonly Scalar logPriorY = -Math.Log(VaeNets.Classes), perParticle, others;
    private readonly Generator generator;
    private readonly optim.Optimizer adam;
    private readonly long[] probsShape, rowsShape, drawnShape, noiseShape;

    public HandVaeLoo(VaeNets nets, Tensor x, int particles, Generator generator)
    {
        this.nets = nets;
        this.x = x;
        this.generator = generator;
        var batch = x.shape[0];
        // computed once: the data are fixed
        sign = x * 2.0 - 1.0;
        xTiled = x.expand(particles, batch, VaeNets.Pixels);
        probsShape = [particles, batch, VaeNets.Classes];
        rowsShape = [particles * batch, VaeNets.Classes];
        drawnShape = [particles, batch];
        noiseShape = [particles, batch, VaeNets.Latent];
        perParticle = 1.0 / particles;
        others = 1.0 / (particles - 1);
        adam = optim.Adam(nets.Parameters(), lr: 1e-3);
    }

    public IEnumerable<Parameter> Parameters() => nets.Parameters();

    public (Tensor Surrogate, Tensor Cost) Objective()
    {
        var logq = nets.EncoderY.call(x).log_softmax(-1).expand(probsShape);   // [K, B, 10]
        Tensor y;
        using (no_grad())
        {
            using var probs = logq.detach().exp();
            y = multinomial(probs.reshape(rowsShape), 1, true, generator).view(drawnShape);   // [K, B]
        }
        var logqY = logq.gather(-1, y.unsqueeze(-1)).squeeze(-1);              // [K, B]
        var ly = logqY - logPriorY;
        var yHot = nn.functional.one_hot(y, VaeNets.Classes).to_type(ScalarType.Float32);
        var stats = nets.EncoderZ.call(cat([xTiled, yHot], -1));               // [K, B, 40]
        var loc = stats.narrow(-1, 0, VaeNets.Latent);
        var logScale = stats.narrow(-1, VaeNets.Latent, VaeNets.Latent);
        var eps = randn(noiseShape, generator: generator);
        var z = loc + logScale.exp() * eps;
        // log q(z) − log p(z) with (z − loc) / scale = ε; the 2π constants cancel.
        var lz = (z.square() - eps.square()).mul(Half).sub(logScale).sum(-1);
        var lx = nn.functional.logsigmoid(sign * nets.Decoder.call(cat([z, yHot], -1))).sum(-1).neg();
        var cost = ly + lz + lx;                                                // [K, B]
        var q = cost.detach();
        var baseline = q.sum(0, keepdim: true).sub(q).mul(others);              // the other particles' mean
        var surrogate = (cost.sum() + (logqY * (q - baseline)).sum()).mul(perParticle);
        return (surrogate, q.sum().mul(perParticle));
    }

    public float Step() => VaeTraining.Step(adam, Objective, x.shape[0]);
}

/// <summary>
/// The same model and estimator through Scg: RunOptions.Particles = K (MaxPlateNesting = 1, the data plate, so no
/// dry run is made), y's estimator <c>ScoreFunction.WithBaseline(Baseline.LeaveOneOut)</c>, z pathwise.
/// </summary>
internal sealed class ScgVaeLoo : IVaeStep
{
    private static readonly SiteEstimator YEstimator = SiteEstimator.ScoreFunction.WithBaseline(Baseline.LeaveOneOut);
    private readonly VaeNets nets;
    private readonly Tensor x, priorLoc, priorScale;
    private readonly optim.Optimizer adam;
    private readonly RunOptions options;

    public ScgVaeLoo(VaeNets nets, Tensor x, int particles, Generator generator, bool validate)
    {
        this.nets = nets;
        this.x = x;
        priorLoc = zeros(x.shape[0], VaeNets.Latent);
        priorScale = ones(x.shape[0], VaeNets.Latent);
        adam = optim.Adam(nets.Parameters(), lr: 1e-3);
        options = new RunOptions
        {
            Generator = generator, Params = new ParamStore(), Particles = particles, MaxPlateNesting = 1, ValidateArguments = validate,
        };
    }

    public IEnumerable<Parameter> Parameters() => nets.Parameters();

    public (Tensor Surrogate, Tensor Cost) Objective()
    {
        var run = Interpreter.Sample(VaeModel.Build(nets, x, priorLoc, priorScale, YEstimator, particles: true), options);
        var objective = Surrogate.Build(run.Trace);
        return (objective.Surrogate, objective.Cost);
    }

    public float Step() => VaeTraining.Step(adam, Objective, x.shape[0]);
}
