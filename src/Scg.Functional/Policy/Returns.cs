using static TorchSharp.torch;

namespace Scg.Policy;

/// <summary>Backward recursions over the steps of a rollout, on [T, N] tensors (step first).</summary>
internal static class Returns
{
    /// <summary>The discounted cost-to-go G_t = Σ_{t' ≥ t} γ^{t'−t} c_{t'} of every step: G_t = c_t + γ G_{t+1}.</summary>
    public static Tensor CostToGo(Tensor costs, double gamma)
    {
        var steps = costs.shape[0];
        var rows = new Tensor[steps];
        Tensor? next = null;
        for (var t = steps - 1; t >= 0; t--)
        {
            rows[t] = next is null ? costs[t] : costs[t] + next * gamma;
            next = rows[t];
        }
        return stack(rows);
    }

    /// <summary>
    /// GAE(λ) advantages A_t = Σ_l (γλ)^l δ_{t+l}, δ_t = c_t + γ V_{t+1} − V_t, with V_{t+1} taken as 0 where the
    /// episode ended at step t (<paramref name="aliveNext"/> = 0) and past the last step, and δ_t = 0 after the end.
    /// </summary>
    /// <param name="costs">[T, N] masked costs.</param>
    /// <param name="values">[T, N] detached values V(s_t).</param>
    /// <param name="alive">[T, N]: 1 where the episode runs at step t (δ_t is zero elsewhere).</param>
    /// <param name="aliveNext">[T, N]: 1 where the episode goes on after step t.</param>
    /// <param name="gamma">γ.</param>
    /// <param name="lambda">λ.</param>
    public static Tensor Advantages(Tensor costs, Tensor values, Tensor alive, Tensor aliveNext, double gamma, double lambda)
    {
        var steps = costs.shape[0];
        var rows = new Tensor[steps];
        Tensor? next = null;
        for (var t = steps - 1; t >= 0; t--)
        {
            var delta = costs[t] - values[t];
            if (t + 1 < steps) delta = delta + values[t + 1] * aliveNext[t] * gamma;
            delta = delta * alive[t];
            rows[t] = next is null ? delta : delta + next * (gamma * lambda);
            next = rows[t];
        }
        return stack(rows);
    }
}
