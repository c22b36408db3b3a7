namespace Scg.Native;

/// <summary>What <see cref="TorchSharpNative.EnsureLoadable"/> found and did.</summary>
public enum TorchSharpNativeStatus
{
    /// <summary>Not running on Linux: nothing to do.</summary>
    NotLinux,

    /// <summary>The process's libstdc++ provides <c>GLIBCXX_3.4.32</c>, so TorchSharp's shim loads as shipped: nothing was done.</summary>
    SystemLibStdCxxSufficient,

    /// <summary><c>libstdc++.so.6</c> cannot be loaded at all; TorchSharp cannot work and patching would not help.</summary>
    LibStdCxxNotLoadable,

    /// <summary>No <c>libLibTorchSharp.so</c> was found where TorchSharp would look; nothing was done.</summary>
    ShimNotFound,

    /// <summary>The shim TorchSharp would load already tolerates the missing version (for example the build patched it): nothing was done.</summary>
    ShimAlreadyLoadable,

    /// <summary>A patched copy of the shim was written to (or found in) the per-user cache, loaded, and wired up for TorchSharp.</summary>
    PatchedCopyLoaded,
}
