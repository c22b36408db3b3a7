using System;
using System.IO;
using Scg.Estimators;
using Scg.Tracing;

namespace Scg.Pictures;

/// <summary>
/// A trace drawn as the lecture draws a stochastic computation graph (<see cref="TraceFormat.ToDot"/>: circles, squares,
/// plates, pathwise and blocked edges, credit) and rendered with Graphviz (<see cref="Graphviz"/>).
/// </summary>
public static class TracePictures
{
    /// <summary>The trace as an SVG document.</summary>
    /// <param name="trace">The trace.</param>
    /// <param name="options">Surrogate options the credit follows; default when null.</param>
    /// <exception cref="GraphvizNotFoundException">Graphviz is not installed; the message says what to install.</exception>
    public static string Svg(Trace trace, SurrogateOptions? options = null) => Graphviz.Svg(TraceFormat.ToDot(trace, options));

    /// <summary>The trace as PNG bytes.</summary>
    /// <param name="trace">The trace.</param>
    /// <param name="options">Surrogate options the credit follows; default when null.</param>
    /// <exception cref="GraphvizNotFoundException">Graphviz is not installed; the message says what to install.</exception>
    public static byte[] Png(Trace trace, SurrogateOptions? options = null) => Graphviz.Png(TraceFormat.ToDot(trace, options));

    /// <summary>Writes the trace's picture to <paramref name="path"/>, as PNG or SVG by its extension.</summary>
    /// <param name="trace">The trace.</param>
    /// <param name="path">The file (<c>.png</c> or <c>.svg</c>); its folder must exist.</param>
    /// <param name="options">Surrogate options the credit follows; default when null.</param>
    /// <exception cref="ArgumentException">The extension is neither <c>.png</c> nor <c>.svg</c>.</exception>
    /// <exception cref="GraphvizNotFoundException">Graphviz is not installed; the message says what to install.</exception>
    public static void Save(Trace trace, string path, SurrogateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        _ = Files.FormatOf(path);
        Graphviz.Save(TraceFormat.ToDot(trace, options), path);
    }
}
