using System;
using TorchSharp;

namespace Scg.Distributions;

/// <summary>
/// Numbers used in log-densities, converted to TorchSharp scalars once (a C# double in a tensor expression is
/// converted on every use).
/// </summary>
internal static class Constants
{
    /// <summary>½ log 2π, the normal density's constant.</summary>
    public static readonly double HalfLog2PiValue = 0.5 * Math.Log(2 * Math.PI);

    /// <summary>½ log 2π as a scalar.</summary>
    public static readonly Scalar HalfLog2Pi = HalfLog2PiValue;

    /// <summary>1 as a scalar.</summary>
    public static readonly Scalar One = 1.0;

    /// <summary>½ as a scalar.</summary>
    public static readonly Scalar Half = 0.5;

    /// <summary>−½ as a scalar.</summary>
    public static readonly Scalar MinusHalf = -0.5;
}
