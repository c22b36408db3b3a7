using System.Collections.Concurrent;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>
/// Constant 0-dimensional tensors (0, 1, −1) per dtype and device, made once and never disposed: distributions expand
/// them to their batch shapes (a view, no copy) instead of allocating a new constant at every construction. They are
/// detached from any dispose scope, so a scope that was open when one was first made cannot free it. Nothing may write
/// to them: libtorch refuses an in-place operation on an expanded view only when its elements overlap, so
/// <see cref="Expanded"/> gives a tensor of its own where the shape has at most one element.
/// </summary>
internal static class ScalarTensors
{
    private static readonly ConcurrentDictionary<(double Value, ScalarType DType, DeviceType Type, int Index), Tensor> Cache = new();

    /// <summary>The constant <paramref name="value"/> as a 0-dimensional tensor of <paramref name="dtype"/> on <paramref name="device"/> (the CPU when null).</summary>
    public static Tensor Of(double value, ScalarType dtype, Device? device) =>
        Cache.GetOrAdd((value, dtype, device?.type ?? DeviceType.CPU, device?.index ?? -1), key =>
        {
            using var _ = no_grad();
            var t = tensor(key.Value, key.DType, device);
            t.DetachFromDisposeScope();
            return t;
        });

    /// <summary>
    /// The constant <paramref name="value"/> in every element of <paramref name="shape"/>: a view of the shared constant
    /// (no copy, read-only since its elements overlap), or a new tensor when the shape has at most one element (a view
    /// there would be writable, and a write would change the constant for the whole process).
    /// </summary>
    public static Tensor Expanded(double value, long[] shape, ScalarType dtype, Device? device)
    {
        var elements = 1L;
        foreach (var d in shape) elements *= d;
        return elements <= 1 ? full(shape, value, dtype, device) : Of(value, dtype, device).expand(shape);
    }
}
