using TorchSharp;
using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>
/// Parameter-free noise drawn with an optional generator on the parameters' device and dtype. A CPU
/// generator cannot drive another device: there the noise is drawn on the CPU and moved.
/// </summary>
internal static class Noise
{
    public static Tensor StandardNormal(long[] shape, ScalarType dtype, Device device, Generator? generator)
    {
        if (generator is null || device.type == DeviceType.CPU)
            return randn(shape, dtype, device, generator: generator);
        using var cpu = randn(shape, dtype, CPU, generator: generator);
        return cpu.to(device);
    }

    public static Tensor Uniform(long[] shape, ScalarType dtype, Device device, Generator? generator)
    {
        if (generator is null || device.type == DeviceType.CPU)
            return rand(shape, dtype, device, generator: generator);
        using var cpu = rand(shape, dtype, CPU, generator: generator);
        return cpu.to(device);
    }
}
