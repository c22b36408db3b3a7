using System;
using System.Linq;
using static TorchSharp.torch;

namespace Scg.Distributions;

/// <summary>Small helpers on tensor shapes (arrays of dimension sizes).</summary>
public static class Shapes
{
    /// <summary>The broadcast of two shapes by the usual right-aligned rules.</summary>
    /// <param name="a">The first shape.</param>
    /// <param name="b">The second shape.</param>
    /// <exception cref="ArgumentException">The shapes do not broadcast.</exception>
    public static long[] Broadcast(long[] a, long[] b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var n = Math.Max(a.Length, b.Length);
        var result = new long[n];
        for (var i = 1; i <= n; i++)
        {
            var x = i <= a.Length ? a[^i] : 1;
            var y = i <= b.Length ? b[^i] : 1;
            if (x != y && x != 1 && y != 1)
                throw new ArgumentException($"Shapes [{Format(a)}] and [{Format(b)}] do not broadcast.");
            result[n - i] = x == 1 ? y : x;
        }
        return result;
    }

    /// <summary>
    /// The broadcast of two parameter shapes of a distribution, with a message naming the family and both
    /// parameters when they do not broadcast.
    /// </summary>
    internal static long[] BroadcastParameters(string family, string firstName, Tensor first, string secondName, Tensor second) =>
        BroadcastParameters(family, firstName, first, secondName, second, out _, out _);

    /// <summary>As <see cref="BroadcastParameters(string, string, Tensor, string, Tensor)"/>, also giving each parameter's own shape.</summary>
    internal static long[] BroadcastParameters(string family, string firstName, Tensor first, string secondName, Tensor second, out long[] a, out long[] b)
    {
        ArgumentNullException.ThrowIfNull(first, firstName);
        ArgumentNullException.ThrowIfNull(second, secondName);
        (a, b) = (first.shape, second.shape);
        if (Broadcasts(a, b)) return Broadcast(a, b);
        throw new ArgumentException(
            $"{family}: the parameters {firstName} [{Format(a)}] and {secondName} [{Format(b)}] do not broadcast together; " +
            "give them shapes whose sizes agree or are 1 in each dimension, counted from the right.", firstName);
    }

    /// <summary>True when shapes <paramref name="a"/> and <paramref name="b"/> broadcast together.</summary>
    internal static bool Broadcasts(long[] a, long[] b)
    {
        for (var i = 1; i <= Math.Min(a.Length, b.Length); i++)
            if (a[^i] != b[^i] && a[^i] != 1 && b[^i] != 1) return false;
        return true;
    }

    /// <summary>The concatenation of two shapes.</summary>
    /// <param name="left">The leading dimensions.</param>
    /// <param name="right">The trailing dimensions.</param>
    public static long[] Concat(long[] left, long[] right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        return left.Length == 0 ? right : right.Length == 0 ? left : [.. left, .. right];
    }

    /// <summary>Formats a shape as a comma-separated list, for messages.</summary>
    /// <param name="shape">The shape.</param>
    public static string Format(long[] shape) => string.Join(", ", shape ?? []);

    /// <summary>True when the two shapes have the same sizes.</summary>
    /// <param name="a">The first shape.</param>
    /// <param name="b">The second shape.</param>
    public static bool Equal(long[] a, long[] b) => a.AsSpan().SequenceEqual(b);
}
