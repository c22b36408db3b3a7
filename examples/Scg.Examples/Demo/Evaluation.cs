using System;
using System.Linq;
using Scg.Estimators;
using Scg.Examples.Parts;
using Scg.Examples.Vae;
using Scg.Interpretation;
using Scg.Objectives;
using static TorchSharp.torch;

namespace Scg.Examples.Demo;

/// <summary>What the demo measures on the held-out digits.</summary>
/// <param name="Elbo">The ELBO per digit (nats), y enumerated (exact in y, one z per value of y).</param>
/// <param name="Iwae">The IWAE bound on log p(x) per digit with K = <paramref name="IwaeParticles"/>.</param>
/// <param name="IwaeParticles">K of the IWAE bound.</param>
/// <param name="Accuracy">The share of digits whose most probable cluster under q(y | x) is matched to their label,
/// under the best one-to-one matching of clusters to digits.</param>
/// <param name="DigitOfCluster">That matching: the digit each cluster stands for.</param>
internal sealed record TestMetrics(double Elbo, double Iwae, int IwaeParticles, double Accuracy, int[] DigitOfCluster);

/// <summary>Test ELBO, IWAE bound and clustering accuracy of a trained <see cref="MnistVae"/>.</summary>
internal static class Evaluation
{
    public static TestMetrics Measure(MnistVae vae, ParamStore store, Tensor x, byte[] labels, ulong seed, int iwaeParticles = 100)
    {
        using var _ = no_grad();
        using var generator = new Generator(seed, CPU);
        var n = x.shape[0];
        var options = new RunOptions { Params = store, Generator = generator, ValidateArguments = false };

        // the ELBO, exact in y: enumerate the guide's y in batches of 250 digits
        var enumerate = options with { Estimators = EstimatorOverrides.None.For("y", SiteEstimator.Enumerate) };
        double negElbo = 0;
        for (long start = 0; start < n; start += 250)
        {
            using var scope = NewDisposeScope();
            var batch = x.slice(0, start, Math.Min(n, start + 250), 1);
            var run = Interpreter.Sample(Guided.Pair(vae.Guide(batch), vae.Generative(batch)), enumerate);
            negElbo += Surrogate.Build(run.Trace).Cost.to_type(ScalarType.Float64).item<double>();
        }

        // the IWAE bound per digit (dataPlate): log-mean-exp over the K particles of each digit's own log weight
        var particles = options with { Particles = iwaeParticles };
        double iwae = 0;
        for (long start = 0; start < n; start += 50)
        {
            using var scope = NewDisposeScope();
            var batch = x.slice(0, start, Math.Min(n, start + 50), 1);
            var run = Interpreter.Sample(Guided.Pair(vae.Guide(batch), vae.Generative(batch)), particles);
            iwae += Iwae.Build(run.Trace, dataPlate: "data").Bound.to_type(ScalarType.Float64).item<double>();
        }

        var logits = vae.ClusterLogits(x);
        var probs = logits.softmax(-1);
        Console.WriteLine($"q(y | x) on test digits: mean largest probability {probs.max(-1).values.mean().item<float>():F2}; " +
                          $"mean probability of each cluster {string.Join(" ", probs.mean([0]).data<float>().ToArray().Select(v => v.ToString("F2")))}");
        var predicted = logits.argmax(-1).data<long>().ToArray();
        var counts = new double[MnistVae.Classes, MnistVae.Classes];
        for (var i = 0; i < predicted.Length; i++) counts[predicted[i], labels[i]]++;
        var digitOfCluster = Hungarian.Maximise(counts);
        var matched = Enumerable.Range(0, MnistVae.Classes).Sum(c => counts[c, digitOfCluster[c]]);
        return new TestMetrics(-negElbo / n, iwae / n, iwaeParticles, matched / n, digitOfCluster);
    }
}
