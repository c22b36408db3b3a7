using System;
using System.IO;
using ScottPlot;

namespace Scg.Pictures;

/// <summary>
/// A chart ready to write: a ScottPlot <see cref="ScottPlot.Plot"/> with the size it is drawn at. Rendering needs no
/// display (SkiaSharp draws off screen; its native library comes with the package).
/// </summary>
public sealed class Chart
{
    /// <summary>Wraps a plot to be drawn at <paramref name="width"/> × <paramref name="height"/> pixels.</summary>
    /// <param name="plot">The plot; adjust it further through <see cref="Plot"/> before writing.</param>
    /// <param name="width">Width in pixels.</param>
    /// <param name="height">Height in pixels.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    public Chart(Plot plot, int width = 640, int height = 400)
    {
        ArgumentNullException.ThrowIfNull(plot);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        (Plot, Width, Height) = (plot, width, height);
    }

    /// <summary>The ScottPlot plot, for adjustments before writing.</summary>
    public Plot Plot { get; }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>The chart as PNG bytes.</summary>
    public byte[] Png() => Plot.GetImageBytes(Width, Height, ScottPlot.ImageFormat.Png);

    /// <summary>The chart as an SVG document.</summary>
    public string Svg() => Plot.GetSvgXml(Width, Height);

    /// <summary>Writes the chart to <paramref name="path"/>, as PNG or SVG by its extension (<c>.png</c>, <c>.svg</c>).</summary>
    /// <param name="path">The file to write; its folder must exist.</param>
    /// <exception cref="ArgumentException">The extension is neither <c>.png</c> nor <c>.svg</c>.</exception>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        switch (Files.FormatOf(path))
        {
            case ImageFormat.Png:
                File.WriteAllBytes(path, Png());
                break;
            default:
                File.WriteAllText(path, Svg());
                break;
        }
    }
}
