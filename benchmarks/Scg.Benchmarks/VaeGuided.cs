using System;
using System.Collections.Generic;
using Scg.Distributions;
using Scg.Estimators;
using Scg.Interpretation;
using Scg.Linq;
using Scg.Objectives;
using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using Sequential = TorchSharp.Modules.Sequential;
using static TorchSharp.torch;

namespace Scg.Benchmarks;

/// <summary>
/// The structured VAE (<see cref="VaeNets"/>) as a guide and a model, what a user of the objective API writes:
/// the guide q(y | x) q(z | x, y) (y by score function with the moving-average baseline, z pathwise) and the
/// model p(y) p(z) p(x | y, z), combined by <see cref="Guided.Pair"/> inside the data plate. The trace's cost is
/// the negative ELBO, log q(y) + log q(z) − log p(y) − log p(z) − log p(x | y, z), the same per-data-point cost
/// as <see cref="VaeModel"/>'s l_y + l_z + l_x, so <see cref="HandVae"/> is its hand-written equivalent.
/// </summary>
internal static class VaeGuidedModel
{
    private static readonly SiteEstimator YEstimator = SiteEstimator.ScoreFunction.WithBaseline(Baseline.MovingAverage(0.9));

    /// <summary>The pair over a data plate of x's batch size, with the priors p(y) = Categorical.Uniform(10) and p(z) = Normal.Standard.</summary>
    public static Model<((Tensor Y, Tensor Z) Guide, Tensor Model)> Build(VaeNets nets, Tensor x)
    {
        var guide = Scg.Model.Plate("data", x.shape[0],
            from encY in Scg.Model.Module("encoderY", nets.EncoderY)
            from encZ in Scg.Model.Module("encoderZ", nets.EncoderZ)
            from y in Scg.Model.Sample("y", Categorical.FromLogits(encY.call(x)), YEstimator)
            let stats = encZ.call(cat([x, OneHot(y)], -1))
            from z in Scg.Model.Sample("z", new Normal(stats.narrow(-1, 0, VaeNets.Latent), stats.narrow(-1, VaeNets.Latent, VaeNets.Latent).exp()).ToEvent(1), SiteEstimator.Pathwise)
            select (y, z));
        var prior = Normal.Standard([x.shape[0], VaeNets.Latent]).ToEvent(1);
        var model = Scg.Model.Plate("data", x.shape[0],
            from dec in Scg.Model.Module("decoder", nets.Decoder)
            from y in Scg.Model.Sample("y", Categorical.Uniform(VaeNets.Classes, [x.shape[0]]))
            from z in Scg.Model.Sample("z", prior)
            from obs in Scg.Model.Observe("x", Bernoulli.FromLogits(dec.call(cat([z, OneHot(y)], -1))).ToEvent(1), x)
            select obs);
        return Guided.Pair(guide, model);
    }

    private static Tensor OneHot(Tensor y) => nn.functional.one_hot(y, VaeNets.Classes).to_type(ScalarType.Float32);
}

/// <summary>
/// The structured VAE's ELBO step through the objective API: <see cref="VaeGuidedModel"/> run by
/// <c>Interpreter.Sample</c>, the surrogate by <c>Surrogate.Build</c>, back-propagating <see cref="IObjective.Loss"/>
/// and reporting <see cref="IObjective.Value"/>.
/// </summary>
internal sealed class ScgVaeGuided : IVaeStep
{
    private readonly VaeNets nets;
    private readonly Tensor x;
    private readonly optim.Optimizer adam;
    private readonly RunOptions options;

    public ScgVaeGuided(VaeNets nets, Tensor x, Generator generator, bool validate)
    {
        this.nets = nets;
        this.x = x;
        adam = optim.Adam(nets.Parameters(), lr: 1e-3);
        options = new RunOptions { Generator = generator, Params = new ParamStore(), ValidateArguments = validate };
    }

    public IEnumerable<Parameter> Parameters() => nets.Parameters();

    public (Tensor Surrogate, Tensor Cost) Objective()
    {
        var run = Interpreter.Sample(VaeGuidedModel.Build(nets, x), options);
        IObjective objective = Surrogate.Build(run.Trace);
        return (objective.Loss, objective.Value);
    }

    public float Step() => VaeTraining.Step(adam, Objective, x.shape[0]);
}

/// <summary>
/// The networks of the plain (continuous-latent) VAE for the IWAE case, the same sizes as <see cref="VaeNets"/>
/// without the class input: an encoder x → (μ, log σ) of z (20 dimensions) and a Bernoulli decoder z → x.
/// </summary>
internal sealed class IwaeNets
{
    public Sequential Encoder { get; }
    public Sequential Decoder { get; }

    /// <summary>Builds both networks in <paramref name="dtype"/>; the same seed gives the same weights.</summary>
    public IwaeNets(long seed, ScalarType dtype = ScalarType.Float32)
    {
        torch.manual_seed(seed);
        Encoder = nn.Sequential(nn.Linear(VaeNets.Pixels, VaeNets.Hidden), nn.ReLU(), nn.Linear(VaeNets.Hidden, 2 * VaeNets.Latent));
        Decoder = nn.Sequential(nn.Linear(VaeNets.Latent, VaeNets.Hidden), nn.ReLU(), nn.Linear(VaeNets.Hidden, VaeNets.Pixels));
        Encoder.to(dtype);
        Decoder.to(dtype);
    }

    public IEnumerable<Parameter> Parameters() => System.Linq.Enumerable.Concat(Encoder.parameters(), Decoder.parameters());
}

/// <summary>
/// IWAE with K vectorised particles, hand-written in a [K, B] layout: z_k = μ(x) + σ(x) ε_k, log w_k = −Σ_b (log q(z_kb)
/// − log p(z_kb) − log p(x_b | z_kb)), as <c>Iwae.Build</c> defines it (one weight per particle, the whole batch's
/// total), the bound log (1/K) Σ_k w_k, the surrogate its negative (everything pathwise).
/// </summary>
internal sealed class HandIwae : IVaeStep
{
    private static readonly Scalar Half = 0.5;
    private readonly IwaeNets nets;
    private readonly Tensor x, sign;
    private readonly Scalar logK;
    private readonly Generator generator;
    private readonly optim.Optimizer adam;
    private readonly long[] noiseShape, batchDims = [1, 2];

    public HandIwae(IwaeNets nets, Tensor x, int particles, Generator generator)
    {
        this.nets = nets;
        this.x = x;
        this.generator = generator;
        sign = x * 2.0 - 1.0;   // computed once: the data are fixed
        noiseShape = [particles, x.shape[0], VaeNets.Latent];
        logK = Math.Log(particles);
        adam = optim.Adam(nets.Parameters(), lr: 1e-3);
    }

    public IEnumerable<Parameter> Parameters() => nets.Parameters();

    public (Tensor Surrogate, Tensor Cost) Objective()
    {
        var stats = nets.Encoder.call(x);                                      // [B, 40]
        var loc = stats.narrow(-1, 0, VaeNets.Latent);
        var logScale = stats.narrow(-1, VaeNets.Latent, VaeNets.Latent);
        var eps = randn(noiseShape, stats.dtype, generator: generator);        // [K, B, 20]
        var z = loc + logScale.exp() * eps;
        // log p(z) − log q(z) with (z − loc) / scale = ε; the 2π constants cancel.
        var lw = (eps.square() - z.square()).mul(Half).add(logScale);          // [K, B, 20]
        var lx = nn.functional.logsigmoid(sign * nets.Decoder.call(z));        // [K, B, 784]
        var logWeights = lw.sum(batchDims) + lx.sum(batchDims);                // [K]
        var bound = logWeights.logsumexp(0).sub(logK);
        var surrogate = bound.neg();
        return (surrogate, surrogate.detach());
    }

    public float Step() => VaeTraining.Step(adam, Objective, x.shape[0]);
}

/// <summary>
/// The same bound through Scg: a guide q(z | x) and a model p(z) p(x | z) combined by <see cref="Guided.Pair"/>,
/// run with <c>RunOptions.Particles</c> = K (MaxPlateNesting = 1, the data plate), <c>Iwae.Build</c> for the bound.
/// </summary>
internal sealed class ScgIwae : IVaeStep
{
    private readonly IwaeNets nets;
    private readonly Tensor x;
    private readonly optim.Optimizer adam;
    private readonly RunOptions options;

    public ScgIwae(IwaeNets nets, Tensor x, int particles, Generator generator, bool validate)
    {
        this.nets = nets;
        this.x = x;
        adam = optim.Adam(nets.Parameters(), lr: 1e-3);
        options = new RunOptions
        {
            Generator = generator, Params = new ParamStore(), Particles = particles, MaxPlateNesting = 1, ValidateArguments = validate,
        };
    }

    public IEnumerable<Parameter> Parameters() => nets.Parameters();

    private Model<(Tensor, Tensor)> Pair()
    {
        var guide = Scg.Model.Plate("data", x.shape[0],
            from enc in Scg.Model.Module("encoder", nets.Encoder)
            let stats = enc.call(x)
            from z in Scg.Model.Sample("z", new Normal(stats.narrow(-1, 0, VaeNets.Latent), stats.narrow(-1, VaeNets.Latent, VaeNets.Latent).exp()).ToEvent(1), SiteEstimator.Pathwise)
            select z);
        var prior = Normal.Standard([x.shape[0], VaeNets.Latent], x.dtype).ToEvent(1);
        var model = Scg.Model.Plate("data", x.shape[0],
            from dec in Scg.Model.Module("decoder", nets.Decoder)
            from z in Scg.Model.Sample("z", prior)
            from obs in Scg.Model.Observe("x", Bernoulli.FromLogits(dec.call(z)).ToEvent(1), x)
            select obs);
        return Guided.Pair(guide, model);
    }

    /// <summary>The guided run alone (for <see cref="Phases"/>).</summary>
    public Scg.Tracing.Trace Run() => Interpreter.Sample(Pair(), options).Trace;

    public (Tensor Surrogate, Tensor Cost) Objective()
    {
        IObjective objective = Iwae.Build(Run());
        return (objective.Loss, objective.Value);
    }

    public float Step() => VaeTraining.Step(adam, Objective, x.shape[0]);
}
