using System;
using System.Collections.Generic;
using System.Linq;
using Scg.Distributions;
using Scg.Estimators;
using Scg.Interpretation;
using Scg.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.VarianceReport;

/// <summary>
/// A chain of T = 20 binary decisions z_t ~ Bernoulli(σ(θ_t + w·z_{t−1})), z_{−1} = 0, each followed by the cost
/// c_t = (z_t − ρ_t)² + κ·|z_t − z_{t−1}|: track a target pattern ρ_t and pay κ = 0.5 for every switch.
/// Parameter groups: θ (one logit offset per step) and w (the persistence weight). Every site is Bernoulli, so
/// nothing here is reparameterisable.
/// </summary>
internal sealed class BernoulliChain : MeasuredModel
{
    private const int Steps = 20;
    private const double Switch = 0.5;
    private static readonly double[] Targets = Enumerable.Range(0, Steps).Select(t => 0.5 + 0.4 * Math.Sin(2 * Math.PI * t / 10)).ToArray();
    private static readonly string[] SiteNames = Enumerable.Range(0, Steps).Select(t => $"z{t}").ToArray();
    private static readonly string[] CostNames = Enumerable.Range(0, Steps).Select(t => $"c{t}").ToArray();
    private readonly Tensor theta = Leaf(Enumerable.Range(0, Steps).Select(t => (float)(0.5 * Math.Cos(0.7 * t))).ToArray());
    private readonly Tensor w = ScalarLeaf(0.8f);
    private readonly Tensor start = zeros([]);

    /// <inheritdoc />
    public override string Title => $"Bernoulli chain (T = {Steps}, a cost at every step)";

    /// <inheritdoc />
    public override IReadOnlyList<ParameterGroup> Groups => [new("θ", [theta]), new("w", [w])];

    /// <inheritdoc />
    public override int MaxPlateNesting => 0;

    /// <inheritdoc />
    public override string PathwiseNote => "n/a: Bernoulli has no pathwise estimator";

    /// <inheritdoc />
    public override Model<Tensor> Build()
    {
        var thetas = theta.unbind();
        return Model.Repeat(Steps, start, (previous, t) =>
            from z in Model.Sample(SiteNames[t], Bernoulli.FromLogits(thetas[t] + w * previous))
            from cost in Model.Cost(CostNames[t], (z - Targets[t]).square() + Switch * (z - previous).abs())
            select z);
    }

    /// <inheritdoc />
    /// <remarks>Site z_t's baseline is a linear function of z_{t−1} (of nothing for z_0): one Linear(1, 1) per site.</remarks>
    public override (EstimatorOverrides Overrides, nn.Module[] Modules) LearnedBaselines()
    {
        var overrides = EstimatorOverrides.None;
        var modules = new nn.Module[Steps];
        for (var t = 0; t < Steps; t++)
        {
            var module = nn.Linear(1, 1);
            modules[t] = module;
            var baseline = t == 0
                ? Baseline.Learned($"baseline-{SiteNames[t]}", module, [], _ => zeros(1))
                : Baseline.Learned($"baseline-{SiteNames[t]}", module, [SiteNames[t - 1]], v => v[0].unsqueeze(-1));
            overrides = overrides.For(SiteNames[t], SiteEstimator.ScoreFunction.WithBaseline(baseline));
        }
        return (overrides, modules);
    }

    /// <inheritdoc />
    public override EstimatorOverrides? Pathwise() => null;

    /// <inheritdoc />
    /// <remarks>Enumerating all 20 sites would make 2²⁰ branches per run; the first ten (1,024 branches) are enumerated,
    /// the others sampled as in (c), each branch drawing its own continuation.</remarks>
    public override (EstimatorOverrides Overrides, string Description) Enumerated() =>
        (EstimatorOverrides.None
            .ForSites((_, _) => true, SiteEstimator.ScoreFunction.WithBaseline(Configurations.MovingAverage))
            .ForSites((name, _) => Array.IndexOf(SiteNames, name) < Steps / 2, SiteEstimator.Enumerate),
         "z0–z9 enumerated, z10–z19 as (c)");

    /// <inheritdoc />
    /// <remarks>A forward recursion over the two states: the marginal of z_{t−1}, times the transition, gives the
    /// joint of (z_{t−1}, z_t), against which c_t is averaged; summing out z_{t−1} gives the next marginal.</remarks>
    protected override Tensor ExactObjective(IReadOnlyList<Tensor> p)
    {
        var (theta, w) = (p[0], p[1]);
        var states = tensor(new double[] { 0, 1 });
        var marginal = tensor(new double[] { 1, 0 });                     // z_{−1} = 0
        var expected = new Tensor[Steps];
        for (var t = 0; t < Steps; t++)
        {
            var on = (theta[t] + w * states).sigmoid();                    // P(z_t = 1 | z_{t−1} = i), i = 0, 1
            var transition = stack([1 - on, on], -1);                      // [previous, current]
            var joint = marginal.unsqueeze(-1) * transition;
            var cost = (states - Targets[t]).square().unsqueeze(0) + Switch * (states.unsqueeze(0) - states.unsqueeze(-1)).abs();
            expected[t] = (joint * cost).sum();
            marginal = joint.sum(dim: 0);  // (a bare sum(0) would read 0 as a dtype)
        }
        return stack(expected).sum();
    }
}
