using System;
using System.CommandLine;
using System.IO;
using Scg.Examples.Data;
using Scg.Examples.Demo;

// The main demo: the lecture's structured VAE (a discrete cluster y, a continuous code z) trained on real MNIST digits.
var estimator = new Option<YEstimator>("--estimator") { Description = "How y's gradient is estimated: enumerate (exact), loo (score function, leave-one-out over K particles) or baseline (score function, moving average)", DefaultValueFactory = _ => YEstimator.Enumerate };
var particles = new Option<int?>("--particles", "-k") { Description = "K, particles per step (default: 4 for loo, which needs K ≥ 2; 1 otherwise)" };
var epochs = new Option<int>("--epochs") { Description = "Passes over the training digits (the time budget may stop earlier)", DefaultValueFactory = _ => 50 };
var minutes = new Option<double>("--minutes") { Description = "Wall-clock budget for training, in minutes", DefaultValueFactory = _ => 2.5 };
var seed = new Option<int>("--seed") { Description = "Seed of the initial weights, minibatch order and noise", DefaultValueFactory = _ => 1 };
var output = new Option<string>("--out") { Description = "Folder for the PNG files and metrics.txt", DefaultValueFactory = _ => "mnist-out" };
var data = new Option<string?>("--data") { Description = "A folder of IDX files (train-images-idx3-ubyte[.gz] and labels, t10k-… too) instead of the npm package" };
var cache = new Option<string>("--cache") { Description = "Where the npm package's digits are cached", DefaultValueFactory = _ => MnistSource.DefaultCache() };
var batch = new Option<int>("--batch") { Description = "Minibatch size B", DefaultValueFactory = _ => 100 };
var threads = new Option<int>("--threads") { Description = "Intra-op threads of libtorch (more than 1 helps little at this size and is very slow when other processes share the CPU)", DefaultValueFactory = _ => 1 };
var latent = new Option<int>("--latent") { Description = "The dimension of z", DefaultValueFactory = _ => 4 };
var checkpoint = new Option<string?>("--checkpoint") { Description = "A checkpoint file: written every 500 steps and at the end, and resumed from when it exists" };
var rate = new Option<double>("--lr") { Description = "Adam's learning rate", DefaultValueFactory = _ => 1e-3 };

var root = new RootCommand("Scg demo: a structured VAE (y ~ Categorical(10), z ~ Normal) on MNIST; prints test ELBO, an IWAE bound and clustering accuracy, and writes PNG files.")
{
    estimator, particles, epochs, minutes, seed, output, data, cache, batch, rate, threads, latent, checkpoint,
};
root.SetAction(result =>
{
    var options = new DemoOptions(result.GetValue(estimator), result.GetValue(particles) ?? (result.GetValue(estimator) == YEstimator.Loo ? 4 : 1), result.GetValue(epochs), result.GetValue(minutes),
        result.GetValue(seed), result.GetValue(output)!, result.GetValue(data), result.GetValue(cache)!, result.GetValue(batch), result.GetValue(rate), result.GetValue(latent), result.GetValue(checkpoint));
    if (options.Estimator == YEstimator.Loo && options.Particles < 2)
    {
        Console.Error.WriteLine("--estimator loo needs --particles K with K ≥ 2 (the baseline of each particle is the mean of the others).");
        return 2;
    }
    if (options.Epochs < 1 || options.Minutes <= 0 || options.BatchSize < 1)
    {
        Console.Error.WriteLine("--epochs, --minutes and --batch must be positive.");
        return 2;
    }
    if (result.GetValue(threads) < 1)
    {
        Console.Error.WriteLine("--threads must be at least 1.");
        return 2;
    }
    TorchSharp.torch.set_num_threads(result.GetValue(threads));
    try { return DemoRun.Run(options); }
    catch (DataMissingException e)
    {
        Console.Error.WriteLine(e.Message);
        return 3;
    }
    catch (InvalidDataException e)
    {
        Console.Error.WriteLine($"Bad data file: {e.Message}");
        return 3;
    }
});
return root.Parse(args).Invoke();
