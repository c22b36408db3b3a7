using System;
using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>
/// Short constructors for the distribution families, for notebooks and query expressions, for example
/// <c>Dist.Normal(0.0, 1.0)</c> or <c>Dist.Normal(mu, 0.1)</c>.
/// </summary>
/// <remarks>
/// Dtype rule: a double given alone becomes a float64 scalar tensor on the CPU, exactly what TorchSharp's
/// <c>torch.tensor(double)</c> gives (measured on 0.107: Float64, not the default dtype Float32); a double
/// array becomes a float64 vector. A double given next to a tensor follows that tensor's dtype and device,
/// so <c>Dist.Normal(mu, 0.1)</c> with a float32 <c>mu</c> is float32 throughout. Pass tensors to choose
/// another dtype or device.
/// </remarks>
public static class Dist
{
    /// <summary>N(loc, scale²) with float64 scalar parameters.</summary>
    /// <param name="loc">The mean.</param>
    /// <param name="scale">The standard deviation; must be positive.</param>
    public static Normal Normal(double loc, double scale) => new(Scalar(loc), Scalar(scale));

    /// <summary>N(loc, scale²), the parameters broadcast together.</summary>
    /// <param name="loc">The mean.</param>
    /// <param name="scale">The standard deviation; must be positive.</param>
    public static Normal Normal(Tensor loc, Tensor scale) => new(loc, scale);

    /// <summary>N(loc, scale²) with a constant scale in the dtype and on the device of <paramref name="loc"/>.</summary>
    /// <param name="loc">The mean.</param>
    /// <param name="scale">The standard deviation; must be positive.</param>
    public static Normal Normal(Tensor loc, double scale) => new(loc, Like(loc, scale));

    /// <summary>LogNormal(loc, scale) with float64 scalar parameters.</summary>
    /// <param name="loc">The mean of log x.</param>
    /// <param name="scale">The standard deviation of log x; must be positive.</param>
    public static LogNormal LogNormal(double loc, double scale) => new(Scalar(loc), Scalar(scale));

    /// <summary>LogNormal(loc, scale), the parameters broadcast together.</summary>
    /// <param name="loc">The mean of log x.</param>
    /// <param name="scale">The standard deviation of log x; must be positive.</param>
    public static LogNormal LogNormal(Tensor loc, Tensor scale) => new(loc, scale);

    /// <summary>LogNormal(loc, scale) with a constant scale in the dtype and on the device of <paramref name="loc"/>.</summary>
    /// <param name="loc">The mean of log x.</param>
    /// <param name="scale">The standard deviation of log x; must be positive.</param>
    public static LogNormal LogNormal(Tensor loc, double scale) => new(loc, Like(loc, scale));

    /// <summary>Laplace(loc, scale) with float64 scalar parameters.</summary>
    /// <param name="loc">The location.</param>
    /// <param name="scale">The scale; must be positive.</param>
    public static Laplace Laplace(double loc, double scale) => new(Scalar(loc), Scalar(scale));

    /// <summary>Laplace(loc, scale), the parameters broadcast together.</summary>
    /// <param name="loc">The location.</param>
    /// <param name="scale">The scale; must be positive.</param>
    public static Laplace Laplace(Tensor loc, Tensor scale) => new(loc, scale);

    /// <summary>Laplace(loc, scale) with a constant scale in the dtype and on the device of <paramref name="loc"/>.</summary>
    /// <param name="loc">The location.</param>
    /// <param name="scale">The scale; must be positive.</param>
    public static Laplace Laplace(Tensor loc, double scale) => new(loc, Like(loc, scale));

    /// <summary>Uniform on [low, high) with float64 scalar parameters.</summary>
    /// <param name="low">The lower end.</param>
    /// <param name="high">The upper end; must exceed <paramref name="low"/>.</param>
    public static Uniform Uniform(double low, double high) => new(Scalar(low), Scalar(high));

    /// <summary>Uniform on [low, high), the parameters broadcast together.</summary>
    /// <param name="low">The lower end.</param>
    /// <param name="high">The upper end; must exceed <paramref name="low"/>.</param>
    public static Uniform Uniform(Tensor low, Tensor high) => new(low, high);

    /// <summary>Exponential(rate) with a float64 scalar rate.</summary>
    /// <param name="rate">The rate; must be positive.</param>
    public static Exponential Exponential(double rate) => new(Scalar(rate));

    /// <summary>Exponential(rate).</summary>
    /// <param name="rate">The rate; must be positive.</param>
    public static Exponential Exponential(Tensor rate) => new(rate);

    /// <summary>Gamma(concentration, rate) with float64 scalar parameters.</summary>
    /// <param name="concentration">The shape α; must be positive.</param>
    /// <param name="rate">The rate β; must be positive.</param>
    public static Gamma Gamma(double concentration, double rate) => new(Scalar(concentration), Scalar(rate));

    /// <summary>Gamma(concentration, rate), the parameters broadcast together.</summary>
    /// <param name="concentration">The shape α; must be positive.</param>
    /// <param name="rate">The rate β; must be positive.</param>
    public static Gamma Gamma(Tensor concentration, Tensor rate) => new(concentration, rate);

    /// <summary>Beta(a, b) with float64 scalar parameters.</summary>
    /// <param name="concentration1">The exponent a attached to x; must be positive.</param>
    /// <param name="concentration0">The exponent b attached to 1 − x; must be positive.</param>
    public static Beta Beta(double concentration1, double concentration0) => new(Scalar(concentration1), Scalar(concentration0));

    /// <summary>Beta(a, b), the parameters broadcast together.</summary>
    /// <param name="concentration1">The exponent a attached to x; must be positive.</param>
    /// <param name="concentration0">The exponent b attached to 1 − x; must be positive.</param>
    public static Beta Beta(Tensor concentration1, Tensor concentration0) => new(concentration1, concentration0);

    /// <summary>Poisson(rate) with a float64 scalar rate.</summary>
    /// <param name="rate">The rate; must be non-negative.</param>
    public static Poisson Poisson(double rate) => new(Scalar(rate));

    /// <summary>Poisson(rate).</summary>
    /// <param name="rate">The rate; must be non-negative.</param>
    public static Poisson Poisson(Tensor rate) => new(rate);

    /// <summary>Bernoulli with a float64 scalar success probability.</summary>
    /// <param name="probs">The probability of 1, in [0, 1].</param>
    public static Bernoulli Bernoulli(double probs) => Distributions.Bernoulli.FromProbs(Scalar(probs));

    /// <summary>Bernoulli with success probabilities <paramref name="probs"/>.</summary>
    /// <param name="probs">The probabilities of 1, in [0, 1].</param>
    public static Bernoulli Bernoulli(Tensor probs) => Distributions.Bernoulli.FromProbs(probs);

    /// <summary>Bernoulli with success log-odds <paramref name="logits"/>.</summary>
    /// <param name="logits">The log-odds of 1.</param>
    public static Bernoulli BernoulliLogits(Tensor logits) => Distributions.Bernoulli.FromLogits(logits);

    /// <summary>Categorical over the indices of a float64 probability vector.</summary>
    /// <param name="probs">The probabilities of the categories 0 … K − 1, summing to one.</param>
    public static Categorical Categorical(params double[] probs) => Distributions.Categorical.FromProbs(Vector(probs));

    /// <summary>Categorical with probability vectors along the last dimension of <paramref name="probs"/>.</summary>
    /// <param name="probs">Probability vectors, of shape batch ++ [K].</param>
    public static Categorical Categorical(Tensor probs) => Distributions.Categorical.FromProbs(probs);

    /// <summary>Categorical with unnormalised log-probabilities along the last dimension of <paramref name="logits"/>.</summary>
    /// <param name="logits">Log-probabilities up to a constant, of shape batch ++ [K].</param>
    public static Categorical CategoricalLogits(Tensor logits) => Distributions.Categorical.FromLogits(logits);

    /// <summary>One-hot categorical with probability vectors along the last dimension of <paramref name="probs"/>.</summary>
    /// <param name="probs">Probability vectors, of shape batch ++ [K].</param>
    public static OneHotCategorical OneHotCategorical(Tensor probs) => Distributions.OneHotCategorical.FromProbs(probs);

    /// <summary>One-hot categorical with unnormalised log-probabilities along the last dimension of <paramref name="logits"/>.</summary>
    /// <param name="logits">Log-probabilities up to a constant, of shape batch ++ [K].</param>
    public static OneHotCategorical OneHotCategoricalLogits(Tensor logits) => Distributions.OneHotCategorical.FromLogits(logits);

    /// <summary>Dirichlet with a float64 concentration vector.</summary>
    /// <param name="concentration">The positive concentrations of the K components.</param>
    public static Dirichlet Dirichlet(params double[] concentration) => new(Vector(concentration));

    /// <summary>Dirichlet with concentrations along the last dimension of <paramref name="concentration"/>.</summary>
    /// <param name="concentration">The positive concentrations, of shape batch ++ [K].</param>
    public static Dirichlet Dirichlet(Tensor concentration) => new(concentration);

    /// <summary>A diagonal-covariance multivariate normal, the parameters broadcast together.</summary>
    /// <param name="loc">The mean vectors, of shape batch ++ [D].</param>
    /// <param name="scaleDiag">The standard deviations per coordinate; must be positive.</param>
    public static MultivariateNormalDiag MultivariateNormalDiag(Tensor loc, Tensor scaleDiag) => new(loc, scaleDiag);

    /// <summary>A diagonal-covariance multivariate normal with one constant standard deviation in the dtype and on the device of <paramref name="loc"/>.</summary>
    /// <param name="loc">The mean vectors, of shape batch ++ [D].</param>
    /// <param name="scale">The standard deviation of every coordinate; must be positive.</param>
    public static MultivariateNormalDiag MultivariateNormalDiag(Tensor loc, double scale) => new(loc, Like(loc, scale));

    private static Tensor Scalar(double value) => tensor(value, ScalarType.Float64);

    private static Tensor Vector(double[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return tensor(values, ScalarType.Float64);
    }

    private static Tensor Like(Tensor reference, double value)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return tensor(value, reference.dtype, reference.device);
    }
}
