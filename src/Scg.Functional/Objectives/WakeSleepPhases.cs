using System;

namespace Scg.Objectives;

/// <summary>The phases of reweighted wake-sleep (<see cref="WakeSleep"/>) an objective trains; combine them with <c>|</c>.</summary>
[Flags]
public enum WakeSleepPhases
{
    /// <summary>No phase (refused by <see cref="WakeSleep.Build"/>).</summary>
    None = 0,

    /// <summary>Wake-θ: the model's parameters ascend Σ_k w̄_k ∇θ log p(x, z_k), the gradient of the importance-weighted bound.</summary>
    WakeTheta = 1,

    /// <summary>Wake-φ: the guide's parameters ascend Σ_k w̄_k ∇φ log q(z_k | x) at fixed z_k (weights detached).</summary>
    WakePhi = 2,

    /// <summary>Sleep-φ: the guide's parameters ascend log q(z | x) at draws (z, x) ~ p of the model (<see cref="WakeSleep.Sleep{TModel, TGuide}"/>).</summary>
    SleepPhi = 4,

    /// <summary>Wake-θ and wake-φ: reweighted wake-sleep as Le et al. (2019) recommend it.</summary>
    Wake = WakeTheta | WakePhi,

    /// <summary>All three phases.</summary>
    All = WakeTheta | WakePhi | SleepPhi,
}
