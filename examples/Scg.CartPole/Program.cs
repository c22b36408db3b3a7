using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using Scg;
using Scg.Distributions;
using Scg.Interpretation;
using Scg.Policy;
using TorchSharp;
using static TorchSharp.torch;

// Trains a policy on CartPole (200-step episodes; solved = average return ≥ 195 over 100 consecutive episodes) and
// prints the number of episodes it took (docs/policy.md).
//   dotnet run -c Release --project examples/Scg.CartPole -- [--seed 1 | --seeds 1,2,3,4,5]
//       [--method reinforce|baseline|actor-critic] [--max-episodes 5000] [--envs 8] [--lr 0.01] [--gamma 0.99] [--lambda 0.95]
var seeds = new List<ulong> { 1 };
var method = "reinforce";
var maxEpisodes = 5000;
var envs = 8;
var lr = 0.01;
var gamma = 0.99;
var lambda = 0.95;
for (var i = 0; i < args.Length; i += 2)
{
    var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"Option '{args[i]}' needs a value.");
    switch (args[i])
    {
        case "--seed": seeds = [ulong.Parse(value, CultureInfo.InvariantCulture)]; break;
        case "--seeds": seeds = value.Split(',').Select(s => ulong.Parse(s, CultureInfo.InvariantCulture)).ToList(); break;
        case "--method": method = value; break;
        case "--max-episodes": maxEpisodes = int.Parse(value, CultureInfo.InvariantCulture); break;
        case "--envs": envs = int.Parse(value, CultureInfo.InvariantCulture); break;
        case "--lr": lr = double.Parse(value, CultureInfo.InvariantCulture); break;
        case "--gamma": gamma = double.Parse(value, CultureInfo.InvariantCulture); break;
        case "--lambda": lambda = double.Parse(value, CultureInfo.InvariantCulture); break;
        default:
            throw new ArgumentException(
                $"Unknown option '{args[i]}'; use --seed S | --seeds 1,2,…, --method reinforce|baseline|actor-critic, --max-episodes N, " +
                "--envs N, --lr X, --gamma X, --lambda X.");
    }
}
if (method is not ("reinforce" or "baseline" or "actor-critic"))
    throw new ArgumentException($"Unknown method '{method}'; use reinforce, baseline or actor-critic.");

torch.set_num_threads(1);   // small networks: a second thread only adds overhead
var episodes = new List<int?>();
foreach (var seed in seeds)
{
    torch.manual_seed((long)seed);   // the networks' initial weights
    var policyNet = nn.Sequential(nn.Linear(4, 32), nn.Tanh(), nn.Linear(32, 2));
    ValueFunction? value = method == "reinforce" ? null : new("value", nn.Sequential(nn.Linear(4, 32), nn.Tanh(), nn.Linear(32, 1)));
    var gradient = new PolicyGradientOptions
    {
        Gamma = gamma,
        DropStateDiscount = true,
        Value = value,
        Lambda = method == "actor-critic" ? lambda : null,
    };
    var options = new PolicySearchOptions
    {
        Horizon = CartPole.Horizon, LearningRate = lr, MaxEpisodes = maxEpisodes, Seed = seed, Gradient = gradient,
        Solved = CartPole.IsSolved,
    };
    var clock = Stopwatch.StartNew();
    var result = PolicySearch.Train(
        new CartPole(envs),
        (obs, _) => Model.Map(Model.Module("policy", policyNet), net => (Distribution)Categorical.FromLogits(net.call(obs))),
        new ParamStore(),
        options,
        (update, returns) =>
        {
            if (update % 25 == 0)
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  seed {seed} update {update}: {returns.Count} episodes, mean return of the last 100 {returns.TakeLast(100).Average():F1} ({clock.Elapsed.TotalSeconds:F0} s)"));
        });
    episodes.Add(result.EpisodesToSolve);
    var outcome = result.EpisodesToSolve is { } n ? $"solved after {n} episodes" : $"not solved in {result.Returns.Count} episodes";
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"seed {seed} method {method}: {outcome} ({result.Updates} updates of {envs} environments, {clock.Elapsed.TotalSeconds:F0} s)"));
}
var solved = episodes.Where(e => e is not null).Select(e => (double)e!.Value).ToArray();
if (seeds.Count > 1 && solved.Length > 0)
{
    var mean = solved.Average();
    var sd = solved.Length > 1 ? Math.Sqrt(solved.Sum(x => (x - mean) * (x - mean)) / (solved.Length - 1)) : 0.0;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"method {method}: solved {solved.Length} of {seeds.Count} seeds; episodes to solve {mean:F0} ± {sd / Math.Sqrt(solved.Length):F0} (mean ± standard error), median {solved.Order().ElementAt(solved.Length / 2):F0}"));
}
