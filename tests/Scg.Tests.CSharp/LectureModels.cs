using Scg.Distributions;
using Scg.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.Tests.CSharp;

/// <summary>
/// The lecture's structured shape written three ways in C#: y ~ Categorical(softmax(logits)),
/// z ~ Normal(mu[y], exp(logSigma[y])), a cost (z − target[y])² + bias[y]. The F# tests check that all ways
/// (and the F# builder) give the same trace and the same gradient.
/// </summary>
public static class LectureModels
{
    /// <summary>LINQ query syntax, with <c>let</c>.</summary>
    public static Model<Tensor> Query(Tensor logits, Tensor mu, Tensor logSigma, Tensor target, Tensor bias) =>
        from y in Model.Sample("y", Categorical.FromLogits(logits))
        let scale = logSigma[y].exp()
        from z in Model.Sample("z", new Normal(mu[y], scale))
        from loss in Model.Cost("loss", (z - target[y]).square() + bias[y])
        select z;

    /// <summary>The core API: explicit Bind and Map.</summary>
    public static Model<Tensor> Core(Tensor logits, Tensor mu, Tensor logSigma, Tensor target, Tensor bias) =>
        Model.Sample("y", Categorical.FromLogits(logits)).Bind(y =>
            Model.Sample("z", new Normal(mu[y], logSigma[y].exp())).Bind(z =>
                Model.Cost("loss", (z - target[y]).square() + bias[y]).Map(_ => z)));

    /// <summary>Two independent coins combined with the LINQ-style Zip, then a cost on both.</summary>
    public static Model<Tensor> Coins(Tensor logitA, Tensor logitB) =>
        from pair in Model.Sample("a", Bernoulli.FromLogits(logitA)).Zip(Model.Sample("b", Bernoulli.FromLogits(logitB)), (a, b) => (a, b))
        from c in Model.Cost("c", pair.a * 2.0 + pair.b * 3.0 + pair.a * pair.b)
        select c;
}
