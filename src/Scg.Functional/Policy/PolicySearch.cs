using System;
using System.Collections.Generic;
using Scg.Distributions;
using Scg.Interpretation;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.Policy;

/// <summary>
/// A policy-search loop: each update plays one episode in each of the N environments (<see cref="PolicyRollout.Model"/>),
/// builds <see cref="PolicyGradient.Build"/>'s objective and takes one Adam step on the policy's and the value
/// function's parameters (all of the store's). Stops when the task is solved or after the episode budget.
/// </summary>
public static class PolicySearch
{
    /// <summary>Trains a policy.</summary>
    /// <param name="environment">The N environments.</param>
    /// <param name="policy">The action distribution given the observations and the step; its parameters and modules
    /// must come from the run's store (<see cref="Model.Module{TModule}(string, TModule)"/>, <see cref="Model.Param"/>).</param>
    /// <param name="store">The store that holds the policy's (and the value function's) parameters.</param>
    /// <param name="options">Settings.</param>
    /// <param name="progress">Called after every update with the update's index and the returns so far.</param>
    public static PolicySearchResult Train(
        IBatchedEnvironment environment,
        Func<Tensor, int, Model<Distribution>> policy,
        ParamStore store,
        PolicySearchOptions options,
        Action<int, IReadOnlyList<double>>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxEpisodes < 1) throw new ArgumentOutOfRangeException(nameof(options), $"MaxEpisodes must be at least 1 (got {options.MaxEpisodes}).");
        if (options.Gradient.Value is { } vf) store.GetOrAddModule(vf.Name, vf.Module);
        var model = PolicyRollout.Model(environment, policy, options.Horizon);
        using var generator = new Generator(options.Seed, CPU);
        var run = new RunOptions { Generator = generator, Params = store, MaxPlateNesting = 1, ValidateArguments = options.ValidateArguments };
        store.Initialize(model, run);
        using var optimizer = optim.Adam(store.Parameters(), options.LearningRate);
        var returns = new List<double>();
        int? solvedAt = null;
        var updates = 0;
        while (returns.Count < options.MaxEpisodes && solvedAt is null)
        {
            using (NewDisposeScope())
            {
                var result = Interpreter.Sample(model, run);
                var objective = PolicyGradient.Build(result.Trace, result.Value, options.Gradient);
                optimizer.zero_grad();
                objective.Loss.backward();
                optimizer.step();
                foreach (var r in result.Value.Returns(result.Trace).to_type(ScalarType.Float64).data<double>().ToArray())
                {
                    returns.Add(r);
                    if (solvedAt is null && options.Solved is { } solved && solved(returns)) solvedAt = returns.Count;
                }
            }
            progress?.Invoke(updates, returns);
            updates++;
        }
        return new PolicySearchResult(returns, solvedAt, updates);
    }
}
