using System;
using System.Collections.Generic;
using Scg.Distributions;
using Scg.Estimators;
using Scg.Interpretation;
using Scg.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.VarianceReport;

/// <summary>
/// The lecture's structured model on a plate of four 1-D data points x_b. Per point: a class
/// y ~ Categorical(softmax(u·x + c)) over three classes; a code z ~ Normal(m_y + k_y·x, exp(s_y)); the observation
/// x ~ Normal(a_y + w·z, exp(r)) under a prior p(y) = π, p(z) = N(0, 1). Costs in program order:
/// l_y = log q(y) − log p(y), l_z = log q(z | y) − log p(z), l_x = −log p(x | y, z); their expectation is the
/// negative ELBO. Parameter groups: φ_y = (u, c), φ_z = (m, k, s), θ = (a, w, r).
/// </summary>
internal sealed class StructuredModel : MeasuredModel
{
    private const int Classes = 3;
    private static readonly double[] PriorProbs = [0.4, 0.35, 0.25];
    private readonly Tensor x = tensor(new float[] { -1.5f, -0.3f, 0.8f, 2.0f });
    private readonly Tensor logPrior = tensor(PriorProbs).log().to_type(ScalarType.Float32);
    private readonly Tensor u = Leaf(-1.0f, 0.2f, 1.1f), c = Leaf(0.1f, 0.3f, -0.2f);
    private readonly Tensor m = Leaf(-0.5f, 0.1f, 0.6f), k = Leaf(0.4f, -0.3f, 0.2f), s = Leaf(-0.3f, -0.1f, -0.5f);
    private readonly Tensor a = Leaf(-1.2f, 0.0f, 1.3f), w = ScalarLeaf(0.8f), r = ScalarLeaf(-0.5f);

    /// <inheritdoc />
    public override string Title => "Structured model (y discrete, z continuous, x observed; plate of 4 points)";

    /// <inheritdoc />
    public override IReadOnlyList<ParameterGroup> Groups =>
        [new("φ_y", [u, c]), new("φ_z", [m, k, s]), new("θ", [a, w, r])];

    /// <inheritdoc />
    public override int MaxPlateNesting => 1;

    /// <inheritdoc />
    public override string PathwiseNote => "z pathwise; y score function with cost-to-go and the moving average";

    /// <inheritdoc />
    public override Model<Tensor> Build()
    {
        var qy = Categorical.FromLogits(x.unsqueeze(-1) * u + c);
        var decoderScale = r.exp();
        return Model.Plate("data", x.shape[0],
            from y in Model.Sample("y", qy)
            from ly in Model.Cost("l_y", qy.LogProb(y) - logPrior[y])
            let qz = new Normal(m[y] + k[y] * x, s[y].exp())
            from z in Model.Sample("z", qz)
            from lz in Model.Cost("l_z", qz.LogProb(z) - new Normal(zeros_like(z), ones_like(z)).LogProb(z))
            from lx in Model.Cost("l_x", -new Normal(a[y] + w * z, decoderScale).LogProb(x))
            select lx);
    }

    /// <inheritdoc />
    /// <remarks>y's baseline reads the data point; z's reads y (upstream) and the data point.</remarks>
    public override (EstimatorOverrides Overrides, nn.Module[] Modules) LearnedBaselines()
    {
        var forY = Mlp(1);
        var forZ = Mlp(Classes + 1);
        var overrides = EstimatorOverrides.None
            .For("y", SiteEstimator.ScoreFunction.WithBaseline(
                Baseline.Learned("baseline-y", forY, [], _ => x.unsqueeze(-1))))
            .For("z", SiteEstimator.ScoreFunction.WithBaseline(
                Baseline.Learned("baseline-z", forZ, ["y"], v => cat([OneHot(v[0]), x.expand(v[0].shape).unsqueeze(-1)], -1))));
        return (overrides, [forY, forZ]);
    }

    /// <inheritdoc />
    public override EstimatorOverrides? Pathwise() => EstimatorOverrides.None
        .For("y", SiteEstimator.ScoreFunction.WithBaseline(Configurations.MovingAverage))
        .For("z", SiteEstimator.Pathwise);

    /// <inheritdoc />
    /// <remarks>The model is unchanged: y's three values broadcast through m[y], a[y] and the costs.</remarks>
    public override (EstimatorOverrides Overrides, string Description) Enumerated() =>
        (EstimatorOverrides.None.For("y", SiteEstimator.Enumerate).For("z", SiteEstimator.Pathwise), "y enumerated, z pathwise");

    /// <inheritdoc />
    /// <remarks>
    /// Σ_b Σ_y q(y | x_b) [l_y(y) + KL(q(z | y, x_b) ‖ N(0, 1)) + E_z(−log N(x_b; a_y + w z, e^r))], where
    /// KL = (μ² + σ² − 1)/2 − log σ and E_z(−log N(x; a + w z, ρ)) = log ρ + log(2π)/2 + ((x − a − w μ)² + w² σ²)/(2ρ²).
    /// </remarks>
    protected override Tensor ExactObjective(IReadOnlyList<Tensor> p)
    {
        var (u, c, m, k, s, a, w, r) = (p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]);
        var x = this.x.to_type(ScalarType.Float64).unsqueeze(-1);        // [B, 1] against classes [3]
        var logQ = (x * u + c).log_softmax(-1);                            // [B, 3]
        var ly = logQ - tensor(PriorProbs).log();
        var mu = m + k * x;
        var sigma = s.exp();
        var kl = (mu.square() + sigma.square() - 1) / 2 - s;
        var rho = r.exp();
        var lx = r + 0.5 * Math.Log(2 * Math.PI) + ((x - a - w * mu).square() + w.square() * sigma.square()) / (2 * rho.square());
        return (logQ.exp() * (ly + kl + lx)).sum();
    }

    private static Tensor OneHot(Tensor y) => nn.functional.one_hot(y, Classes).to_type(ScalarType.Float32);

    private static nn.Module<Tensor, Tensor> Mlp(int inputs) =>
        nn.Sequential(nn.Linear(inputs, 16), nn.Tanh(), nn.Linear(16, 1));
}
