using System;
using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>
/// The Dirichlet distribution on probability vectors of length K (the last parameter dimension, which is the
/// event shape): density Γ(Σα) / ΠΓ(α_k) · Π x_k^(α_k − 1). Draws are normalised independent gamma draws.
/// Not reparameterised here (score-function gradients only).
/// </summary>
public sealed class Dirichlet : Distribution
{
    /// <summary>Creates Dirichlet(concentration); the last dimension holds the K components.</summary>
    /// <param name="concentration">The positive concentrations α, of shape batch ++ [K].</param>
    public Dirichlet(Tensor concentration)
    {
        Check.RequireFloating(concentration, nameof(concentration));
        Check.RequireVector(concentration, nameof(concentration));
        Concentration = concentration;
    }

    /// <summary>The concentrations α, of shape batch ++ [K].</summary>
    public Tensor Concentration { get; }

    /// <inheritdoc />
    public override string Name => "Dirichlet";

    /// <inheritdoc />
    public override long[] BatchShape => Concentration.shape[..^1];

    /// <inheritdoc />
    public override long[] EventShape => [Concentration.shape[^1]];

    /// <inheritdoc />
    public override bool IsReparameterized => false;

    /// <inheritdoc />
    public override Constraint Support => Constraints.Simplex;

    /// <inheritdoc />
    public override Device Device => Concentration.device;

    /// <inheritdoc />
    public override ScalarType DType => Concentration.dtype;

    /// <inheritdoc />
    /// <remarks>Components are floored at the dtype's smallest normal number so that their logarithms are finite.</remarks>
    public override Tensor Sample(Generator? generator, params long[] sampleShape)
    {
        using var _ = no_grad();
        using var conc = Concentration.detach().expand(Shapes.Concat(sampleShape, Concentration.shape));
        using var gammas = Noise.StandardGamma(conc, generator);
        using var total = gammas.sum(-1, keepdim: true);
        using var normalised = gammas / total;
        return normalised.clamp_min(finfo(DType).tiny);
    }

    /// <inheritdoc />
    public override Tensor LogProb(Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        using var powers = xlogy(Concentration - 1.0, value);
        using var powerSum = powers.sum(-1);
        using var total = Concentration.sum(-1);
        using var lgammaTotal = total.lgamma();
        using var lgammas = Concentration.lgamma();
        using var lgammaSum = lgammas.sum(-1);
        return powerSum + lgammaTotal - lgammaSum;
    }

    /// <inheritdoc />
    public override Distribution Expand(long[] batchShape) =>
        new Dirichlet(Concentration.expand(Shapes.Concat(batchShape, EventShape)));

    /// <inheritdoc />
    public override string? ParameterError() => Check.Positive("concentration", Concentration);
}
