namespace Scg.Native;

using System;
using System.IO;
using System.Security.Cryptography;

/// <summary>
/// Stores patched copies of the TorchSharp shim in the per-user cache,
/// <c>$XDG_CACHE_HOME/scg/native/&lt;hash of the original&gt;/libLibTorchSharp.so</c> (<c>~/.cache</c> when
/// <c>XDG_CACHE_HOME</c> is unset). The folder is keyed by the original's content, so each TorchSharp build gets
/// its own copy and a copy is written once, atomically, and then reused by later processes.
/// </summary>
internal static class PatchedShimCache
{
    /// <summary>Returns the path of a patched copy of <paramref name="original"/>, writing it first if needed.</summary>
    /// <param name="original">The unpatched shim bytes; their hash names the cache folder.</param>
    /// <param name="patched">The patched bytes to store.</param>
    /// <exception cref="IOException">The cache folder cannot be created or written.</exception>
    internal static string Store(byte[] original, byte[] patched)
    {
        string key = Convert.ToHexString(SHA256.HashData(original)).ToLowerInvariant()[..32];
        string path = Path.Combine(CacheRoot(), "scg", "native", key, TorchSharpShimLocator.ShimFileName);
        try
        {
            if (File.Exists(path) && File.ReadAllBytes(path).AsSpan().SequenceEqual(patched))
                return path;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            AtomicFile.Write(path, patched, template: null, lastWriteTimeUtc: null);
            return path;
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException("Cannot write the patched TorchSharp shim to '" + path + "': " + e.Message, e);
        }
    }

    private static string CacheRoot()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        return !string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg)
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
    }
}
