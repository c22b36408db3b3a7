using System;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.Policy;

/// <summary>
/// A learned state-value function V_ψ(s_t): a module from the observations ([N, …], as the environment reports them)
/// to one value per environment ([N] or [N, 1]). <see cref="PolicyGradient.Build"/> uses it as a baseline (or, with
/// GAE, as a critic) and trains it by least squares in the same objective, apart from the policy: the policy's terms
/// read it detached and its loss reads detached targets.
/// </summary>
/// <param name="Name">The module's full name in the run's parameter store, not prefixed by <see cref="Model.Scope{T}"/> (registered on first use; register it yourself
/// with <see cref="Interpretation.ParamStore.GetOrAddModule{TModule}"/> before building an optimizer over the store).</param>
/// <param name="Module">Maps observations to values.</param>
public sealed record ValueFunction(string Name, nn.Module<Tensor, Tensor> Module)
{
    /// <summary>The name, checked.</summary>
    public string Name { get; init; } = string.IsNullOrEmpty(Name) ? throw new ArgumentException("A value function needs a name.", nameof(Name)) : Name;

    /// <summary>The module, checked.</summary>
    public nn.Module<Tensor, Tensor> Module { get; init; } = Module ?? throw new ArgumentNullException(nameof(Module));
}
