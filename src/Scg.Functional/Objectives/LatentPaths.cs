using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Objectives;

/// <summary>
/// The part of a scalar's gradient that flows through the values of a guided run's pathwise (reparameterised) sample
/// sites z_j. <see cref="Through"/> is Σ_j sum(⊥(∂s/∂z_j) · z_j): its gradient is exactly that part, since z_j carries
/// it on to the guide's parameters. Objectives reweight it (DReG) or remove it (<see cref="Strip"/>: a gradient "at
/// fixed z", as reweighted wake-sleep needs) without knowing which parameters are the model's and which the guide's.
/// </summary>
/// <remarks>∂s/∂z_j is the derivative through every path from z_j, including through later guide sites drawn from a
/// distribution that depends on z_j; such hierarchical guides would have that path counted twice, so the objectives
/// that use this require each pathwise guide site's distribution not to depend on another pathwise site's value (a
/// mean-field or amortised guide; documented, not checked). One extra backward pass, with the graph kept.</remarks>
internal static class LatentPaths
{
    /// <summary>A scalar whose gradient is the part of ∇<paramref name="scalar"/> that passes through the trace's
    /// pathwise sample values; null when there is none.</summary>
    public static Tensor? Through(Tensor scalar, Trace trace)
    {
        if (!scalar.requires_grad) return null;
        var latents = trace.Samples.Where(s => s.IsReparameterized && !s.IsReplayed && s.Value.requires_grad).Select(s => s.Value).ToList();
        if (latents.Count == 0) return null;
        var grads = new Tensor?[latents.Count];
        try
        {
            // backward(inputs: …) rather than torch.autograd.grad, whose native errors terminate the process
            scalar.backward(grad_tensors: null, retain_graph: true, create_graph: false, inputs: [.. latents]);
            for (var i = 0; i < grads.Length; i++) grads[i] = latents[i].grad?.detach().clone();
        }
        catch (ExternalException e) when (e.Message.Contains("second time", System.StringComparison.Ordinal) || e.Message.Contains("freed", System.StringComparison.Ordinal))
        {
            throw new System.InvalidOperationException(
                "The autograd graph of this run was freed by an earlier backward(); build the objective right after the run, before any backward().", e);
        }
        finally
        {
            foreach (var z in latents) z.grad = null;
        }
        var terms = new List<Tensor>();
        for (var i = 0; i < grads.Length; i++)
            if (grads[i] is { } g) terms.Add(g.mul(latents[i]).sum());
        return terms.Count switch { 0 => null, 1 => terms[0], _ => stack(terms).sum() };
    }

    /// <summary><paramref name="scalar"/> less its gradient through the pathwise sample values: the same value, and the
    /// gradient of the scalar at fixed latents.</summary>
    public static Tensor Strip(Tensor scalar, Trace trace) => Through(scalar, trace) is { } through ? scalar - through + through.detach() : scalar;
}
