using System.Collections.Generic;
using Scg.Distributions;
using Scg.Estimators;
using Scg.Interpretation;
using Scg.Linq;
using static TorchSharp.torch;

namespace Scg.Tests.CSharp;

/// <summary>The README's LINQ example, kept compiling and checked by the F# tests.</summary>
public static class ReadmeExample
{
    /// <summary>Runs the README example and returns θ's gradient.</summary>
    public static double Gradient(ulong seed, int particles)
    {
        var theta = tensor(0.5, requires_grad: true);
        var model =
            from y in Model.Sample("y", Bernoulli.FromLogits(theta))            // discrete: score function
            from z in Model.Sample("z", new Normal(y * 3.0, tensor(1.0)))       // continuous: pathwise
            from c in Model.Cost("c", (z - 1.0).square())                       // credited to y and z
            select z;
        var run = Interpreter.Sample(model, new RunOptions { Seed = seed, Particles = particles });
        Surrogate.Build(run.Trace).Surrogate.backward();                        // theta.grad: unbiased ∇θ E[c]
        return theta.grad!.item<double>();
    }

    /// <summary>Runs the README's training example and returns the cost of every step.</summary>
    public static IReadOnlyList<double> Train()
    {
        var trainable =
            from logit in Model.Param("theta", () => tensor(0.5))                   // created by Scg, trained in the store
            from y in Model.Sample("y", Bernoulli.FromLogits(logit))
            from z in Model.Sample("z", new Normal(y * 3.0, tensor(1.0)))
            from c in Model.Cost("c", (z - 1.0).square())
            select z;
        var store = new ParamStore();
        var costs = Training.Train(step => trainable, store, ps => optim.Adam(ps, 0.05), steps: 300,
                                   new RunOptions { Seed = 1, Particles = 16 });  // one seeded generator for the loop
        return costs;
    }

    /// <summary>Runs the README's DiCE example and returns θ's gradient and second derivative.</summary>
    public static (double Gradient, double Hessian) Hessian(ulong seed, int particles)
    {
        var theta = tensor(0.5, requires_grad: true);
        var model =
            from y in Model.Sample("y", Bernoulli.FromLogits(theta))
            from z in Model.Sample("z", new Normal(y * 3.0, tensor(1.0)))
            from c in Model.Cost("c", (z - 1.0).square())
            select z;
        var run = Interpreter.Sample(model, new RunOptions { Seed = seed, Particles = particles });
        Surrogate.Build(run.Trace).Surrogate.backward();                        // the README's first snippet, before this one
        var again = Interpreter.Sample(model, new RunOptions { Seed = seed + 1000, Particles = particles });  // backward() above freed run's graph
        var dice = Dice.Build(again.Trace);                                     // value = the cost; any-order derivatives
        var d = Derivatives.GradientAndHessian(dice.Surrogate, [theta]);        // d.Gradient, d.Hessian (unbiased estimates)
        return (d.Gradient.item<double>(), d.Hessian.item<double>());
    }

    /// <summary>Runs the README's enumeration example and returns θ's gradient.</summary>
    public static double Enumerated(ulong seed)
    {
        var theta = tensor(0.5, requires_grad: true);
        var model =
            from y in Model.Sample("y", Bernoulli.FromLogits(theta))
            from z in Model.Sample("z", new Normal(y * 3.0, tensor(1.0)))
            from c in Model.Cost("c", (z - 1.0).square())
            select z;
        var options = new RunOptions { Seed = seed, Estimators = EstimatorOverrides.None.For("y", SiteEstimator.Enumerate) };
        var exact = Interpreter.Sample(model, options);                         // z is drawn once per value of y
        Surrogate.Build(exact.Trace).Surrogate.backward();                      // no score-function noise from y
        return theta.grad!.item<double>();
    }
}
