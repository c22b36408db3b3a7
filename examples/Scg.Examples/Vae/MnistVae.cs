using Scg.Distributions;
using Scg.Linq;
using TorchSharp;
using Sequential = TorchSharp.Modules.Sequential;
using Linear = TorchSharp.Modules.Linear;
using Embedding = TorchSharp.Modules.Embedding;
using static TorchSharp.torch;

namespace Scg.Examples.Vae;

/// <summary>
/// The lecture's structured VAE on binarised MNIST, as a guide and a model for <see cref="Objectives.Guided.Pair"/>,
/// one plate "data" over a minibatch x of shape [B, 784]:
/// <list type="bullet">
/// <item>guide q(y, z | x): y ~ Categorical(π(x)) over 10 clusters (its estimator is chosen per run), then
/// z ~ Normal(μ(x, y), σ(x, y)) in <c>latent</c> dimensions, reparameterised;</item>
/// <item>model p(x, y, z): y ~ Categorical(uniform), z ~ N(0, I), x ~ Bernoulli(logits = decoder(y, z)) per pixel.</item>
/// </list>
/// A layer that reads y and another input is written as a sum, W·h + E[y] (E an embedding: W·h + E·onehot(y) is the
/// linear layer on the concatenation), so that it broadcasts when y carries particle or enumeration dimensions.
/// </summary>
internal sealed class MnistVae(int latent)
{
    public const int Classes = 10;
    public const int Pixels = 784;
    public const int Hidden = 256;
    /// <summary>The dimension of z.</summary>
    public int Latent => latent;

    private readonly Sequential encoder = nn.Sequential(nn.Linear(Pixels, Hidden), nn.ReLU());
    private readonly Linear encoderY = nn.Linear(Hidden, Classes);
    private readonly Linear encoderZ = nn.Linear(Hidden, 2 * latent);
    private readonly Embedding encoderZOfY = Embedding(Classes, 2 * latent);
    private readonly Linear decoderZ = nn.Linear(latent, Hidden);
    private readonly Embedding decoderY = Embedding(Classes, Hidden);
    private readonly Sequential decoderOut = nn.Sequential(nn.ReLU(), nn.Linear(Hidden, Pixels));

    /// <summary>q(y, z | x); returns y.</summary>
    public Model<Tensor> Guide(Tensor x) =>
        Model.Plate("data", x.shape[0],
            from enc in Model.Module("encoder", encoder)
            from encY in Model.Module("encoder.y", encoderY)
            from encZ in Model.Module("encoder.z", encoderZ)
            from encZy in Model.Module("encoder.z-of-y", encoderZOfY)
            let h = enc.call(x)
            from y in Model.Sample("y", Categorical.FromLogits(encY.call(h)))
            from z in Model.Sample("z", Posterior(encZ.call(h) + encZy.call(y)))
            select y);

    /// <summary>p(x, y, z) with x observed; returns the decoder's logits.</summary>
    public Model<Tensor> Generative(Tensor x) =>
        Model.Plate("data", x.shape[0],
            from decZ in Model.Module("decoder.z", decoderZ)
            from decY in Model.Module("decoder.y", decoderY)
            from decOut in Model.Module("decoder.out", decoderOut)
            from y in Model.Sample("y", Categorical.Uniform(Classes, [], x.dtype, x.device))
            from z in Model.Sample("z", Normal.Standard([latent], x.dtype, x.device).ToEvent(1))
            let logits = decOut.call(decZ.call(z) + decY.call(y))
            from _ in Model.Observe("x", Bernoulli.FromLogits(logits).ToEvent(1), x)
            select logits);

    /// <summary>q(y | x)'s logits, outside any run (for evaluation).</summary>
    public Tensor ClusterLogits(Tensor x) => encoderY.call(encoder.call(x));

    /// <summary>The mean of q(z | x, y), outside any run.</summary>
    public Tensor PosteriorMean(Tensor x, Tensor y) => (encoderZ.call(encoder.call(x)) + encoderZOfY.call(y)).chunk(2, -1)[0];

    /// <summary>The decoder's pixel probabilities at (y, z), outside any run.</summary>
    public Tensor Decode(Tensor y, Tensor z) => decoderOut.call(decoderZ.call(z) + decoderY.call(y)).sigmoid();

    /// <summary>An embedding of y that starts at zero, like a linear layer's weights for a one-hot input at scale 0:
    /// TorchSharp's default N(0, 1) entries make some clusters much better than others from the first step, and q(y | x)
    /// collapses onto one of them.</summary>
    private static Embedding Embedding(int count, int size)
    {
        var embedding = nn.Embedding(count, size);
        using (no_grad()) embedding.weight!.zero_();
        return embedding;
    }

    /// <summary>Normal(μ, softplus(s) + 10⁻³) over the last dimension of the [μ, s] halves.</summary>
    private static Distribution Posterior(Tensor stats)
    {
        var halves = stats.chunk(2, -1);
        return new Normal(halves[0], nn.functional.softplus(halves[1]) + 1e-3).ToEvent(1);
    }
}
