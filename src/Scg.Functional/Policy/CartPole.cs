using System;
using Scg.Distributions;
using static TorchSharp.torch;

namespace Scg.Policy;

/// <summary>
/// N cart-poles (Barto, Sutton &amp; Anderson 1983, with the constants of the standard gym task): a pole of half-length
/// 0.5 m and mass 0.1 kg hinged on a 1 kg cart, pushed left (action 0) or right (action 1) with 10 N, integrated by
/// explicit Euler with τ = 0.02 s. The state and observation are (x, ẋ, θ, θ̇); the reward is 1 per step, the step that
/// ends the episode included; an episode ends when |x| &gt; 2.4 or |θ| &gt; 12°. Resets draw every state variable
/// uniformly from [−0.05, 0.05], as a sample site "s0". Combine with a 200-step horizon: solved is an average return
/// ≥ 195 over 100 consecutive episodes.
/// </summary>
/// <param name="Count">The number of cart-poles N.</param>
/// <param name="Type">The floating-point type of states and rewards.</param>
public sealed record CartPole(long Count, ScalarType Type = ScalarType.Float32) : IBatchedEnvironment
{
    /// <summary>Gravity, m/s².</summary>
    public const double Gravity = 9.8;
    /// <summary>The cart's mass, kg.</summary>
    public const double CartMass = 1.0;
    /// <summary>The pole's mass, kg.</summary>
    public const double PoleMass = 0.1;
    /// <summary>Half the pole's length, m.</summary>
    public const double HalfLength = 0.5;
    /// <summary>The push, N.</summary>
    public const double Force = 10.0;
    /// <summary>The time step, s.</summary>
    public const double Tau = 0.02;
    /// <summary>The cart position beyond which an episode ends, m.</summary>
    public const double XLimit = 2.4;
    /// <summary>The pole angle beyond which an episode ends: 12°, in radians.</summary>
    public const double ThetaLimit = 12 * 2 * Math.PI / 360;
    /// <summary>The standard episode length.</summary>
    public const int Horizon = 200;
    /// <summary>The average return over 100 consecutive episodes that counts as solved.</summary>
    public const double SolvedReturn = 195.0;

    /// <summary>True when the last 100 episodes' average return is at least 195 (the task's definition of solved).</summary>
    /// <param name="returns">Every episode's return so far, oldest first.</param>
    public static bool IsSolved(System.Collections.Generic.IReadOnlyList<double> returns)
    {
        ArgumentNullException.ThrowIfNull(returns);
        if (returns.Count < 100) return false;
        var sum = 0.0;
        for (var i = returns.Count - 100; i < returns.Count; i++) sum += returns[i];
        return sum / 100 >= SolvedReturn;
    }

    /// <summary>The number of cart-poles, checked.</summary>
    public long Count { get; init; } = Count >= 1 ? Count : throw new ArgumentOutOfRangeException(nameof(Count), $"CartPole needs at least one environment (got {Count}).");

    /// <inheritdoc />
    public Model<EnvironmentStep> Reset()
    {
        var low = full([Count, 4], -0.05, Type);
        var high = full([Count, 4], 0.05, Type);
        return Model.Map(Model.Sample("s0", new Independent(new Uniform(low, high), 1)), s =>
            new EnvironmentStep(s, s, zeros(Count, Type), zeros(Count, ScalarType.Bool)));
    }

    /// <inheritdoc />
    public Model<EnvironmentStep> Step(EnvironmentStep previous, Tensor action, int t)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(action);
        var next = Dynamics(previous.State, action);
        var done = Ended(next);
        return Model.Return(new EnvironmentStep(next, next, ones(Count, Type), done));
    }

    /// <summary>One Euler step of the cart-pole equations for every environment.</summary>
    /// <param name="state">[N, 4]: x, ẋ, θ, θ̇.</param>
    /// <param name="action">[N]: 1 pushes right, 0 pushes left.</param>
    /// <returns>The next state, [N, 4].</returns>
    public static Tensor Dynamics(Tensor state, Tensor action)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(action);
        if (state.Dimensions != 2 || state.shape[1] != 4)
            throw new ArgumentException($"A cart-pole state has shape [N, 4] (got [{string.Join(", ", state.shape)}]).", nameof(state));
        var x = state[.., 0];
        var xDot = state[.., 1];
        var theta = state[.., 2];
        var thetaDot = state[.., 3];
        var force = action.to_type(state.dtype).mul(2 * Force).sub(Force);
        var cos = theta.cos();
        var sin = theta.sin();
        const double totalMass = CartMass + PoleMass;
        const double poleMassLength = PoleMass * HalfLength;
        var temp = (force + thetaDot.square() * sin * poleMassLength) / totalMass;
        var thetaAcc = (sin * Gravity - cos * temp) / ((4.0 / 3.0 - cos.square() * (PoleMass / totalMass)) * HalfLength);
        var xAcc = temp - thetaAcc * cos * (poleMassLength / totalMass);
        return stack([x + xDot * Tau, xDot + xAcc * Tau, theta + thetaDot * Tau, thetaDot + thetaAcc * Tau], 1);
    }

    /// <summary>True where the state lies outside the limits (|x| &gt; 2.4 or |θ| &gt; 12°), [N].</summary>
    /// <param name="state">[N, 4].</param>
    public static Tensor Ended(Tensor state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return state[.., 0].abs().gt(XLimit).logical_or(state[.., 2].abs().gt(ThetaLimit));
    }
}
