using System;

namespace Scg.Pictures;

/// <summary>Graphviz's <c>dot</c> program, which renders trace pictures, is not installed (or not on PATH).</summary>
public sealed class GraphvizNotFoundException : InvalidOperationException
{
    /// <summary>The exception for a <c>dot</c> program that was looked for and not found.</summary>
    /// <param name="program">The program name or path that was looked for.</param>
    public GraphvizNotFoundException(string program)
        : base($"Graphviz's '{program}' program was not found on PATH, so the trace cannot be rendered to SVG or PNG. " +
               "Install Graphviz (Debian/Ubuntu: 'apt-get install graphviz'; macOS: 'brew install graphviz'; " +
               "Windows: 'winget install graphviz') and make sure 'dot' is on PATH, or pass the program's full path; " +
               "TraceFormat.ToDot and TraceFormat.ToMermaid give the picture as text without it.")
    {
        Program = program;
    }

    /// <summary>The program name or path that was looked for.</summary>
    public string Program { get; }
}
