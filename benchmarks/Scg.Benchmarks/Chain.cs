using System;
using System.Linq;
using Scg.Distributions;
using Scg.Estimators;
using Scg.Interpretation;
using Scg.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.Benchmarks;

/// <summary>
/// A chain of T Bernoulli sites, batched over a number of independent chains: at step t,
/// logit_t = θ_t + w · x_{t−1}, x_t ~ Bernoulli(σ(logit_t)) (score function), cost_t = (x_t − 0.3)².
/// The estimator is Σ_t Σ_b log p(x_t) · stop_grad(Σ_{t' ≥ t} cost_t') + Σ costs.
/// </summary>
internal sealed class ChainParams
{
    public static readonly Scalar Target = 0.3, Two = 2.0, One = 1.0;

    public ChainParams(int steps, long seed)
    {
        Steps = steps;
        torch.manual_seed(seed);
        using var init = randn(steps) * 0.5;
        Theta = init.detach().requires_grad_(true);
        W = tensor(0.5f).requires_grad_(true);
        SiteNames = Enumerable.Range(0, steps).Select(t => $"x{t}").ToArray();
        CostNames = Enumerable.Range(0, steps).Select(t => $"c{t}").ToArray();
    }

    public int Steps { get; }
    public Tensor Theta { get; }
    public Tensor W { get; }
    public string[] SiteNames { get; }
    public string[] CostNames { get; }
    public Tensor[] All => [Theta, W];

    public void ZeroGrad()
    {
        Theta.grad?.zero_();
        W.grad?.zero_();
    }

    /// <summary>The chain as an Scg model (Model.Repeat: a loop, not nested binds), optionally in a plate.</summary>
    public Model<Tensor> Model(Tensor[] thetas, Tensor x0, long chains)
    {
        var body = Scg.Model.Repeat(Steps, x0, (x, t) =>
            from xt in Scg.Model.Sample(SiteNames[t], Bernoulli.FromLogits(thetas[t] + W * x))
            from c in Scg.Model.Cost(CostNames[t], (xt - Target).square())
            select xt);
        return chains > 0 ? Scg.Model.Plate("chains", chains, body) : body;
    }
}

/// <summary>The chain written directly in TorchSharp, the way a careful programmer would.</summary>
internal sealed class HandChain(ChainParams p, long chains, Generator generator)
{
    private readonly Tensor x0 = zeros(chains);

    public (Tensor Surrogate, Tensor Cost) Objective()
    {
        var thetas = p.Theta.unbind();
        var lps = new Tensor[p.Steps];
        var costs = new Tensor[p.Steps];
        var x = x0;
        for (var t = 0; t < p.Steps; t++)
        {
            var logit = thetas[t] + p.W * x;
            Tensor xt, sign;
            using (no_grad())
            {
                xt = bernoulli(logit.sigmoid(), generator);
                sign = xt.mul(ChainParams.Two).sub_(ChainParams.One);
            }
            lps[t] = nn.functional.logsigmoid(sign * logit);
            costs[t] = (xt - ChainParams.Target).square();
            x = xt;
        }
        var lp = stack(lps);                                         // [T, chains]
        var cost = stack(costs);
        var costToGo = cost.detach().flip(0).cumsum(0).flip(0);      // Σ_{t' ≥ t} cost_t'
        var total = cost.sum();
        return (total + (lp * costToGo).sum(), total.detach());
    }

    public float Step()
    {
        using var scope = NewDisposeScope();
        var (surrogate, cost) = Objective();
        p.ZeroGrad();
        surrogate.backward();
        return cost.item<float>();
    }
}

/// <summary>The same chain and estimator through Scg.</summary>
internal sealed class ScgChain(ChainParams p, long chains, Generator generator, bool validate)
{
    private readonly Tensor x0 = chains > 0 ? zeros(chains) : zeros([]);
    private readonly RunOptions options = new() { Generator = generator, ValidateArguments = validate };

    public (Tensor Surrogate, Tensor Cost) Objective()
    {
        var run = Interpreter.Sample(p.Model(p.Theta.unbind(), x0, chains), options);
        var objective = Surrogate.Build(run.Trace);
        return (objective.Surrogate, objective.Cost);
    }

    public float Step()
    {
        using var scope = NewDisposeScope();
        var (surrogate, cost) = Objective();
        p.ZeroGrad();
        surrogate.backward();
        return cost.item<float>();
    }
}
