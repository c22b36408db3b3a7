using System;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>
/// Random draws made with an optional generator on the parameters' device and dtype. A CPU generator
/// cannot drive another device: there the draw is made on the CPU and the result moved.
/// </summary>
/// <remarks>
/// Measured on TorchSharp-cpu 0.107: <c>bernoulli</c>, <c>poisson</c>, <c>multinomial</c> and
/// <c>_standard_gamma</c> accept a generator, honour it (same seed, same bits) and leave the default
/// generator untouched. None of TorchSharp's <c>torch.distributions</c> samplers is used.
/// </remarks>
internal static class Noise
{
    public static Tensor StandardNormal(long[] shape, ScalarType dtype, Device device, Generator? generator)
    {
        if (OnDevice(device, generator))
            return randn(shape, dtype, device, generator: generator);
        using var cpu = randn(shape, dtype, CPU, generator: generator);
        return cpu.to(device);
    }

    public static Tensor Uniform(long[] shape, ScalarType dtype, Device device, Generator? generator)
    {
        if (OnDevice(device, generator))
            return rand(shape, dtype, device, generator: generator);
        using var cpu = rand(shape, dtype, CPU, generator: generator);
        return cpu.to(device);
    }

    /// <summary>Uniform draws in the half-open interval (0, 1]: never zero, so their logarithm is finite.</summary>
    public static Tensor UniformPositive(long[] shape, ScalarType dtype, Device device, Generator? generator)
    {
        using var u = Uniform(shape, dtype, device, generator);
        return u.neg().add_(1.0);
    }

    /// <summary>
    /// Standard gamma draws Gamma(concentration, 1), element by element, with no gradient. Half-precision
    /// concentrations (float16, bfloat16), which libtorch's CPU gamma sampler rejects, are drawn in float32 and
    /// rounded back to their dtype.
    /// </summary>
    public static Tensor StandardGamma(Tensor concentration, Generator? generator)
    {
        using var _ = no_grad();
        if (!IsHalf(concentration.dtype))
            return Draw(concentration, generator, c => _standard_gamma(c.contiguous(), generator));
        using var wide = concentration.to_type(ScalarType.Float32);
        using var drawn = Draw(wide, generator, c => _standard_gamma(c.contiguous(), generator));
        return drawn.to_type(concentration.dtype);
    }

    /// <summary>True for the 16-bit floating-point dtypes.</summary>
    public static bool IsHalf(ScalarType dtype) => dtype is ScalarType.Float16 or ScalarType.BFloat16;

    /// <summary>Bernoulli draws (0 or 1 in the dtype of <paramref name="probs"/>), element by element.</summary>
    /// <remarks>Called under no_grad by its sampler; bernoulli allocates its own dense output.</remarks>
    public static Tensor Bernoulli(Tensor probs, Generator? generator) =>
        Draw(probs, generator, p => bernoulli(p, generator));

    /// <summary>Poisson draws (whole numbers in the dtype of <paramref name="rates"/>), element by element.</summary>
    public static Tensor Poisson(Tensor rates, Generator? generator)
    {
        using var _ = no_grad();
        return Draw(rates, generator, r => poisson(r.contiguous(), generator));
    }

    /// <summary>
    /// <paramref name="count"/> category indices drawn with replacement from each row of the matrix
    /// <paramref name="probs"/> (rows need not be normalised); the result is int64 of shape [rows, count].
    /// </summary>
    public static Tensor Multinomial(Tensor probs, long count, Generator? generator)
    {
        using var _ = no_grad();
        return Draw(probs, generator, p => multinomial(p, count, true, generator));
    }

    /// <summary>
    /// Applies a generator-driven draw to <paramref name="parameter"/>: directly where the generator can drive
    /// the parameter's device, otherwise on a CPU copy whose result is moved back.
    /// </summary>
    private static Tensor Draw(Tensor parameter, Generator? generator, Func<Tensor, Tensor> draw)
    {
        if (OnDevice(parameter, generator)) return draw(parameter);
        using var onCpu = parameter.to(CPU);
        using var drawn = draw(onCpu);
        return drawn.to(parameter.device);
    }

    private static bool OnDevice(Device device, Generator? generator) =>
        generator is null || device.type == DeviceType.CPU;

    private static bool OnDevice(Tensor like, Generator? generator) =>
        generator is null || like.device_type == DeviceType.CPU;
}
