using System;
using System.IO;

namespace Scg.Pictures;

/// <summary>Picks a picture's format from its file name.</summary>
internal static class Files
{
    /// <summary>PNG for <c>.png</c>, SVG for <c>.svg</c> (any case).</summary>
    /// <exception cref="ArgumentException">Any other extension.</exception>
    public static ImageFormat FormatOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".png" => ImageFormat.Png,
        ".svg" => ImageFormat.Svg,
        var other => throw new ArgumentException(
            $"Cannot tell the picture format of '{path}' from its extension '{other}': name the file .png or .svg.", nameof(path)),
    };
}
