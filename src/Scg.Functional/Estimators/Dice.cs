using System;
using System.Collections.Generic;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>
/// The DiCE surrogate (Foerster et al. 2018), whose derivatives of every order are unbiased estimates of the
/// derivatives of the expected cost: L = Σ_c □(τ_c) · c + Σ_w (1 − □(log p(w))) · b_w, where □(τ) = exp(τ − ⊥τ)
/// (value 1, gradient □·∇τ), τ_c sums the log-probabilities of the score-function sites upstream of cost c
/// (element by element in plates, or summed over a plate reopened after a node outside it, as the cost-to-go
/// credits them), and the second sum is the baseline term of
/// Mao et al. (2019), which keeps baselines unbiased at every order. Enumerated sites enter every term as the
/// probabilities of their values (exact, differentiable). Its value equals the reported cost.
/// Differentiate it repeatedly with <c>torch.autograd.grad(…, create_graph: true)</c>, or use
/// <see cref="Estimators.Derivatives"/>.
/// </summary>
public static class Dice
{
    /// <summary>Builds the DiCE surrogate of <paramref name="trace"/> and its reported cost.</summary>
    /// <param name="trace">A trace recorded by an interpreter.</param>
    /// <param name="options">The fallback baseline, the store and validation; <see cref="SurrogateOptions.TotalCost"/>
    /// and <see cref="SurrogateOptions.Vectorize"/> do not apply.</param>
    /// <exception cref="NotSupportedException">A site has a critic (a critic replaces sampled costs, which DiCE
    /// differentiates), or <see cref="SurrogateOptions.TotalCost"/> is set.</exception>
    /// <exception cref="ArgumentException">Under validation, a cost, log-probability or baseline is not finite
    /// (the node is named); a baseline's shape does not fit its site.</exception>
    public static SurrogateObjective Build(Trace trace, SurrogateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(trace);
        options ??= SurrogateOptions.Default;
        if (options.TotalCost)
            throw new NotSupportedException("Dice.Build: SurrogateOptions.TotalCost does not apply to DiCE, which credits each cost to its own upstream sites.");
        var validate = options.ValidateArguments ?? trace.Validated;
        var context = new BaselineContext(trace, options, validate);

        var costs = new List<Tensor>();
        var terms = new List<Tensor>();
        // enumerated sites enter as their probabilities, differentiable: exact at every order
        var weights = new Dictionary<int, Tensor?>();
        if (trace.HasEnumeration)
        {
            EnumeratedSurrogate.Check(trace);
            UpstreamLogProb.Walk(trace, s => s.IsEnumerated, (node, tau) => weights[node.Index] = tau, visitSamples: true);
        }
        UpstreamLogProb.Walk(trace, s => s.IsScoreFunction, (node, tau) =>
        {
            var c = Surrogate.CostOf(node)!;
            if (weights.GetValueOrDefault(node.Index) is { } w) c = w.exp().mul(c);
            costs.Add(c.sum());
            terms.Add(tau is null ? c.sum() : MagicBox(tau).mul(c).sum());
        });
        foreach (var node in trace.Nodes)
            if (node is SampleNode { IsScoreFunction: true } site && BaselineContext.CriticOf(site) is not null)
                throw new NotSupportedException(
                    $"Sample site '{site.Name}' has a critic: DiCE differentiates the sampled costs themselves, so a critic does not apply. Remove it, or use Surrogate.Build.");
        if (context.Any())
        {
            CostToGo.Walk(trace, s => s.IsScoreFunction && context.BaselineOf(s) is not null, (site, q) =>
            {
                if (LearningSignal.BaselineOf(site, q, context) is { } b)
                {
                    var term = MagicBox(site.Reduced!).neg().add(1.0).mul(b);
                    if (weights.GetValueOrDefault(site.Index) is { } w) term = term.mul(w.exp());
                    terms.Add(term.sum());
                }
            });
        }

        var cost = costs.Count == 0 ? Surrogate.Zero(trace) : stack(costs).sum();
        return Surrogate.Complete(trace, cost, terms.Count == 0 ? cost : stack(terms).sum(), validate, context);
    }

    /// <summary>□(τ) = exp(τ − ⊥τ): value 1, derivative □(τ) · ∇τ, to every order.</summary>
    /// <param name="tau">A sum of log-probabilities.</param>
    public static Tensor MagicBox(Tensor tau)
    {
        ArgumentNullException.ThrowIfNull(tau);
        return tau.sub(tau.detach()).exp();
    }
}
