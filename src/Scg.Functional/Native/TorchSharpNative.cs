namespace Scg.Native;

using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;

/// <summary>
/// Run-time fix for TorchSharp 0.107 on Linux systems whose libstdc++ predates <c>GLIBCXX_3.4.32</c>
/// (Debian 12, Ubuntu 22.04, ...), for hosts that load TorchSharp's native files without Scg's MSBuild
/// targets, such as .NET Interactive notebooks (<c>#r "nuget: Scg.Functional"</c>).
/// </summary>
/// <remarks>
/// <para>
/// <see cref="EnsureLoadable"/> runs automatically, from Scg.Functional's module initializer, before any Scg type
/// is used. Code that calls TorchSharp before touching any Scg type (for example a notebook cell that creates a
/// tensor first) should call <see cref="EnsureLoadable"/> itself, before its first TorchSharp call.
/// </para>
/// <para>
/// When the shim TorchSharp would load still requires <c>GLIBCXX_3.4.32</c> and the process's libstdc++ lacks it,
/// a copy with that requirement marked weak is written to <c>$XDG_CACHE_HOME/scg/native/&lt;hash&gt;/</c>
/// (default <c>~/.cache</c>); the libraries it links against (<c>libtorch.so</c>, <c>libc10.so</c>,
/// <c>libtorch_cpu.so</c>) are loaded from where TorchSharp keeps them; the copy is loaded; and a
/// <see cref="NativeLibrary.SetDllImportResolver"/> callback hands it to TorchSharp's <c>LibTorchSharp</c> imports.
/// TorchSharp's own probing load finds the same copy because the loader matches the already loaded
/// <c>libLibTorchSharp.so</c> by soname.
/// </para>
/// </remarks>
public static class TorchSharpNative
{
    private const string LibraryName = "LibTorchSharp";

    private static readonly object Gate = new();
    private static TorchSharpNativeStatus? _status;
    private static IntPtr _patchedHandle;

    /// <summary>Path of the patched shim copy this process loaded, or null when none was needed.</summary>
    public static string? PatchedShimPath { get; private set; }

    /// <summary>The error the automatic call from the module initializer swallowed, or null when it succeeded.</summary>
    public static Exception? InitializerError { get; internal set; }

    /// <summary>
    /// Makes TorchSharp's native shim loadable in this process, patching a cached copy when needed. Idempotent
    /// and thread-safe: the first successful call does the work and later calls return its result. Does nothing
    /// off Linux, when libstdc++ already provides <c>GLIBCXX_3.4.32</c>, or when the shim is already patched.
    /// </summary>
    /// <returns>What was found and done.</returns>
    /// <exception cref="ElfFormatException">The shim TorchSharp would load is not a valid ELF64 file.</exception>
    /// <exception cref="IOException">The patched copy could not be written to the cache.</exception>
    /// <exception cref="DllNotFoundException">The patched copy or one of its libtorch siblings failed to load.</exception>
    public static TorchSharpNativeStatus EnsureLoadable()
    {
        lock (Gate)
        {
            _status ??= Apply();
            return _status.Value;
        }
    }

    private static TorchSharpNativeStatus Apply()
    {
        if (!OperatingSystem.IsLinux())
            return TorchSharpNativeStatus.NotLinux;
        switch (LibStdCxx.ProbeGlibcxx3432())
        {
            case LibStdCxxStatus.Present:
                return TorchSharpNativeStatus.SystemLibStdCxxSufficient;
            case LibStdCxxStatus.NotLoadable:
                return TorchSharpNativeStatus.LibStdCxxNotLoadable;
        }

        Assembly torchSharp = typeof(TorchSharp.torch).Assembly;
        var locator = new TorchSharpShimLocator(torchSharp);
        string? shim = locator.FindShim();
        if (shim == null)
            return TorchSharpNativeStatus.ShimNotFound;

        byte[] original = File.ReadAllBytes(shim);
        ElfPatchOutcome outcome = ElfVersionPatcher.Patch(original, ElfVersionPatcher.DefaultVersionName, shim);
        if (outcome.Result != ElfPatchResult.Patched)
            return TorchSharpNativeStatus.ShimAlreadyLoadable;

        string copy = PatchedShimCache.Store(original, outcome.Image);
        PreloadSiblings(locator, shim, ElfDynamicSection.ReadNeeded(outcome.Image, shim));
        _patchedHandle = NativeLibrary.Load(copy);
        try
        {
            NativeLibrary.SetDllImportResolver(torchSharp, Resolve);
        }
        catch (InvalidOperationException)
        {
            // Someone else registered a resolver for TorchSharp; the soname match still routes loads to our copy.
        }
        PatchedShimPath = copy;
        return TorchSharpNativeStatus.PatchedCopyLoaded;
    }

    /// <summary>
    /// The copy lives in the cache, so its <c>$ORIGIN</c> run path cannot find libtorch: load each needed library
    /// that sits with the original (by absolute path) first; the loader then matches them by soname.
    /// </summary>
    private static void PreloadSiblings(TorchSharpShimLocator locator, string shim, IReadOnlyList<string> needed)
    {
        foreach (string soname in needed)
        {
            string? sibling = locator.FindSibling(soname, shim);
            if (sibling != null)
                NativeLibrary.Load(sibling);
        }
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        libraryName == LibraryName ? _patchedHandle : IntPtr.Zero;
}
