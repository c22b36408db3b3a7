namespace Scg.Native;

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;

/// <summary>
/// Finds the <c>libLibTorchSharp.so</c> that TorchSharp would load in this process, and the directories its
/// sibling libraries (<c>libtorch.so</c>, <c>libtorch_cpu.so</c>, <c>libc10.so</c>, ...) live in. It mirrors the
/// places the .NET runtime and TorchSharp's own fallback look: the host's native search directories (from the
/// app's deps.json), the folder of TorchSharp.dll, TorchSharp's <c>cpu/</c> consolidation folder, and the NuGet
/// package folders when TorchSharp.dll itself was loaded from the NuGet cache (notebooks, F# Interactive).
/// </summary>
internal sealed class TorchSharpShimLocator
{
    internal const string ShimFileName = "libLibTorchSharp.so";

    private readonly Assembly _torchSharp;
    private readonly string _rid;

    internal TorchSharpShimLocator(Assembly torchSharp)
    {
        _torchSharp = torchSharp;
        _rid = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
    }

    /// <summary>The first existing shim in probing order, or null.</summary>
    internal string? FindShim() =>
        ShimDirectories().Select(d => Path.Combine(d, ShimFileName)).FirstOrDefault(File.Exists);

    /// <summary>Finds a library named <paramref name="soname"/> next to the shim or in the other probing folders.</summary>
    internal string? FindSibling(string soname, string shimPath)
    {
        IEnumerable<string> directories = new[] { Path.GetDirectoryName(shimPath)! }
            .Concat(ShimDirectories())
            .Concat(LibTorchPackageDirectories());
        return directories.Select(d => Path.Combine(d, soname)).FirstOrDefault(File.Exists);
    }

    private IEnumerable<string> ShimDirectories()
    {
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string searchDirectories)
        {
            foreach (string directory in searchDirectories.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
                yield return directory;
        }
        string? assemblyDirectory = Path.GetDirectoryName(_torchSharp.Location);
        if (string.IsNullOrEmpty(assemblyDirectory))
            yield break;
        yield return assemblyDirectory;
        yield return Path.Combine(assemblyDirectory, "runtimes", _rid, "native");
        // NuGet cache layout: <root>/torchsharp/<version>/lib/<tfm>/TorchSharp.dll
        yield return Path.GetFullPath(Path.Combine(assemblyDirectory, "..", "..", "runtimes", _rid, "native"));
        yield return Path.Combine(assemblyDirectory, "cpu");
        string? version = TorchSharpPackageVersion();
        if (version != null)
            yield return Path.Combine(NuGetPackagesRoot(), "torchsharp", version, "runtimes", _rid, "native");
    }

    /// <summary>The native folders of the libtorch-cpu-&lt;rid&gt; package matching this TorchSharp (notebook case).</summary>
    private IEnumerable<string> LibTorchPackageDirectories()
    {
        string? version = LibTorchPackageVersion();
        string? assemblyDirectory = Path.GetDirectoryName(_torchSharp.Location);
        var roots = new List<string>();
        if (!string.IsNullOrEmpty(assemblyDirectory))
            roots.Add(Path.GetFullPath(Path.Combine(assemblyDirectory, "..", "..", "..", "..")));
        roots.Add(NuGetPackagesRoot());
        foreach (string root in roots.Distinct(StringComparer.Ordinal))
        {
            if (version != null)
                yield return Path.Combine(root, "libtorch-cpu-" + _rid, version, "runtimes", _rid, "native");
        }
    }

    private static string NuGetPackagesRoot()
    {
        string? configured = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        return !string.IsNullOrEmpty(configured)
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
    }

    private string? TorchSharpPackageVersion()
    {
        string? informational = _torchSharp.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        return informational == null ? null : NormalizeVersion(informational.Split('+')[0]);
    }

    private string? LibTorchPackageVersion()
    {
        // TorchSharp keeps the libtorch package version in a private constant of the torch class.
        Type? torch = _torchSharp.GetType("TorchSharp.torch");
        object? value = torch?.GetField("libtorchPackageVersion", BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue();
        return value is string text ? NormalizeVersion(text) : null;
    }

    /// <summary>NuGet folder names drop a zero fourth component: 2.10.0.0 is stored as 2.10.0.</summary>
    private static string NormalizeVersion(string version)
    {
        string[] parts = version.Split('-', 2);
        string[] numbers = parts[0].Split('.');
        if (numbers.Length == 4 && numbers[3] == "0")
            numbers = numbers.Take(3).ToArray();
        return string.Join(".", numbers) + (parts.Length > 1 ? "-" + parts[1] : string.Empty);
    }
}
