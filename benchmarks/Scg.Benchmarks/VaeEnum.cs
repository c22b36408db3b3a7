using System;
using System.Collections.Generic;
using Scg.Distributions;
using Scg.Estimators;
using Scg.Interpretation;
using Scg.Linq;
using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using static TorchSharp.torch;

namespace Scg.Benchmarks;

/// <summary>
/// The structured VAE (<see cref="VaeNets"/>) with y summed out exactly: E_{q(y|x)}[l_y + l_z + l_x] =
/// Σ_y q(y | x) (…) over the 10 classes, z pathwise for every (class, data point). Scg enumerates y
/// (<c>SiteEstimator.Enumerate</c> through <c>RunOptions.Estimators</c>): y's value is the support [10, 1], to the
/// left of the data plate, and every cost is weighted by q(y | x) and summed over it.
/// </summary>
internal static class VaeEnumModel
{
    private static readonly Scalar LogPriorY = -Math.Log(VaeNets.Classes);

    /// <summary>
    /// The model a user writes for enumeration: the same as <see cref="VaeModel"/>, except that the concatenations,
    /// which do not broadcast, broadcast their operands' leading dimensions by hand (y's enumeration dimension
    /// against the data plate). y's estimator is left to the run's overrides.
    /// </summary>
    public static Model<Tensor> Build(VaeNets nets, Tensor x, Tensor priorLoc, Tensor priorScale)
    {
        var prior = new Normal(priorLoc, priorScale).ToEvent(1);
        return Scg.Model.Plate("data", x.shape[0],
            from encY in Scg.Model.Module("encoderY", nets.EncoderY)
            from encZ in Scg.Model.Module("encoderZ", nets.EncoderZ)
            from dec in Scg.Model.Module("decoder", nets.Decoder)
            let qy = Categorical.FromLogits(encY.call(x))
            from y in Scg.Model.Sample("y", qy)
            from ly in Scg.Model.Cost("l_y", qy.LogProb(y) - LogPriorY)
            let yHot = nn.functional.one_hot(y, VaeNets.Classes).to_type(ScalarType.Float32)
            let stats = encZ.call(CatBroadcast(x, yHot))
            let qz = new Normal(stats.narrow(-1, 0, VaeNets.Latent), stats.narrow(-1, VaeNets.Latent, VaeNets.Latent).exp()).ToEvent(1)
            from z in Scg.Model.Sample("z", qz, SiteEstimator.Pathwise)
            from lz in Scg.Model.Cost("l_z", qz.LogProb(z) - prior.LogProb(z))
            from lx in Scg.Model.Cost("l_x", -Bernoulli.FromLogits(dec.call(CatBroadcast(z, yHot))).ToEvent(1).LogProb(x))
            select lx);
    }

    /// <summary>Concatenates along the last dimension after broadcasting the other dimensions of the two tensors.</summary>
    private static Tensor CatBroadcast(Tensor a, Tensor b)
    {
        var lead = Shapes.Broadcast(a.shape[..^1], b.shape[..^1]);
        return cat([a.expand([.. lead, a.shape[^1]]), b.expand([.. lead, b.shape[^1]])], -1);
    }
}

/// <summary>
/// The hand-written side: every data point tiled to the 10 classes, a [10, B] batch. One-hot y for all classes,
/// z drawn per (class, point), the costs weighted by q(y | x) = softmax and summed over the classes; the weights
/// carry y's gradient, so there is no score term.
/// </summary>
internal sealed class HandVaeEnum : IVaeStep
{
    private static readonly Scalar Half = 0.5;
    private readonly VaeNets nets;
    private readonly Tensor x, sign, xTiled, yHot;
    private readonly Scalar logPriorY = -Math.Log(VaeNets.Classes);
    private readonly Generator generator;
    private readonly optim.Optimizer adam;
    private readonly long[] noiseShape;

    public HandVaeEnum(VaeNets nets, Tensor x, Generator generator)
    {
        this.nets = nets;
        this.x = x;
        this.generator = generator;
        var batch = x.shape[0];
        // computed once: the data and the classes are fixed
        sign = x * 2.0 - 1.0;
        xTiled = x.expand(VaeNets.Classes, batch, VaeNets.Pixels);
        yHot = eye(VaeNets.Classes).unsqueeze(1).expand(VaeNets.Classes, batch, VaeNets.Classes);
        noiseShape = [VaeNets.Classes, batch, VaeNets.Latent];
        adam = optim.Adam(nets.Parameters(), lr: 1e-3);
    }

    public IEnumerable<Parameter> Parameters() => nets.Parameters();

    public (Tensor Surrogate, Tensor Cost) Objective()
    {
        var logq = nets.EncoderY.call(x).log_softmax(-1).t();                  // [10, B]
        var ly = logq - logPriorY;
        var stats = nets.EncoderZ.call(cat([xTiled, yHot], -1));               // [10, B, 40]
        var loc = stats.narrow(-1, 0, VaeNets.Latent);
        var logScale = stats.narrow(-1, VaeNets.Latent, VaeNets.Latent);
        var eps = randn(noiseShape, generator: generator);
        var z = loc + logScale.exp() * eps;
        // log q(z) − log p(z) with (z − loc) / scale = ε; the 2π constants cancel.
        var lz = (z.square() - eps.square()).mul(Half).sub(logScale).sum(-1);
        var lx = nn.functional.logsigmoid(sign * nets.Decoder.call(cat([z, yHot], -1))).sum(-1).neg();
        var surrogate = logq.exp().mul(ly + lz + lx).sum();                    // Σ_y q(y | x) cost(y), summed over points
        return (surrogate, surrogate.detach());
    }

    public float Step() => VaeTraining.Step(adam, Objective, x.shape[0]);
}

/// <summary>
/// The same objective through Scg: y enumerated by <c>RunOptions.Estimators</c>, z pathwise, MaxPlateNesting = 1 (the
/// data plate) so that no measuring run is made.
/// </summary>
internal sealed class ScgVaeEnum : IVaeStep
{
    private readonly VaeNets nets;
    private readonly Tensor x, priorLoc, priorScale;
    private readonly optim.Optimizer adam;
    private readonly RunOptions options;

    public ScgVaeEnum(VaeNets nets, Tensor x, Generator generator, bool validate)
    {
        this.nets = nets;
        this.x = x;
        priorLoc = zeros(x.shape[0], VaeNets.Latent);
        priorScale = ones(x.shape[0], VaeNets.Latent);
        adam = optim.Adam(nets.Parameters(), lr: 1e-3);
        options = new RunOptions
        {
            Generator = generator, Params = new ParamStore(), MaxPlateNesting = 1, ValidateArguments = validate,
            Estimators = EstimatorOverrides.None.For("y", SiteEstimator.Enumerate),
        };
    }

    public IEnumerable<Parameter> Parameters() => nets.Parameters();

    public (Tensor Surrogate, Tensor Cost) Objective()
    {
        var run = Interpreter.Sample(VaeEnumModel.Build(nets, x, priorLoc, priorScale), options);
        var objective = Surrogate.Build(run.Trace);
        return (objective.Surrogate, objective.Cost);
    }

    public float Step() => VaeTraining.Step(adam, Objective, x.shape[0]);
}
