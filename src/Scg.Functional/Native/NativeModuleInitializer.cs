namespace Scg.Native;

using System;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

/// <summary>Applies <see cref="TorchSharpNative.EnsureLoadable"/> when Scg.Functional is first used.</summary>
internal static class NativeModuleInitializer
{
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries",
        Justification = "TorchSharp's native shim must be made loadable before any Scg code reaches TorchSharp.")]
    internal static void Initialize()
    {
        try
        {
            TorchSharpNative.EnsureLoadable();
        }
        catch (Exception e)
        {
            // Never fail type loading; an explicit EnsureLoadable() call retries and reports the error.
            TorchSharpNative.InitializerError = e;
        }
    }
}
