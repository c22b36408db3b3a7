using System;
using System.ComponentModel;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading.Tasks;

namespace Scg.Pictures;

/// <summary>
/// Renders Graphviz DOT text by running the <c>dot</c> program (Debian's <c>graphviz</c> package), with the DOT on its
/// standard input and the picture on its standard output.
/// </summary>
public static class Graphviz
{
    /// <summary>The program run when none is given: <c>dot</c>, looked up on PATH.</summary>
    public const string DefaultProgram = "dot";

    /// <summary>How long one rendering may take before it is abandoned.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>True when <paramref name="program"/> (<c>dot</c> by default) can be found: a path to a file, or a name on PATH.</summary>
    /// <param name="program">The program's name or path.</param>
    public static bool IsAvailable(string program = DefaultProgram) => Locate(program) is not null;

    /// <summary>Renders <paramref name="dot"/> as an SVG document.</summary>
    /// <param name="dot">A DOT graph.</param>
    /// <param name="program">The <c>dot</c> program's name (looked up on PATH) or path.</param>
    /// <exception cref="GraphvizNotFoundException">The program is not installed; the message says what to install.</exception>
    /// <exception cref="InvalidOperationException">The program failed (the message has its error output) or timed out.</exception>
    public static string Svg(string dot, string program = DefaultProgram) => Encoding.UTF8.GetString(Render(dot, ImageFormat.Svg, program));

    /// <summary>Renders <paramref name="dot"/> as PNG bytes.</summary>
    /// <param name="dot">A DOT graph.</param>
    /// <param name="program">The <c>dot</c> program's name (looked up on PATH) or path.</param>
    /// <exception cref="GraphvizNotFoundException">The program is not installed; the message says what to install.</exception>
    /// <exception cref="InvalidOperationException">The program failed (the message has its error output) or timed out.</exception>
    public static byte[] Png(string dot, string program = DefaultProgram) => Render(dot, ImageFormat.Png, program);

    /// <summary>Renders <paramref name="dot"/> to <paramref name="path"/>, as PNG or SVG by its extension.</summary>
    /// <param name="dot">A DOT graph.</param>
    /// <param name="path">The file to write (<c>.png</c> or <c>.svg</c>); its folder must exist.</param>
    /// <param name="program">The <c>dot</c> program's name (looked up on PATH) or path.</param>
    /// <exception cref="ArgumentException">The extension is neither <c>.png</c> nor <c>.svg</c>.</exception>
    /// <exception cref="GraphvizNotFoundException">The program is not installed; the message says what to install.</exception>
    public static void Save(string dot, string path, string program = DefaultProgram)
    {
        ArgumentNullException.ThrowIfNull(path);
        File.WriteAllBytes(path, Render(dot, Files.FormatOf(path), program));
    }

    /// <summary>Renders <paramref name="dot"/> in <paramref name="format"/>.</summary>
    /// <param name="dot">A DOT graph.</param>
    /// <param name="format">The output format.</param>
    /// <param name="program">The <c>dot</c> program's name (looked up on PATH) or path.</param>
    /// <exception cref="GraphvizNotFoundException">The program is not installed; the message says what to install.</exception>
    /// <exception cref="InvalidOperationException">The program failed (the message has its error output) or timed out.</exception>
    public static byte[] Render(string dot, ImageFormat format, string program = DefaultProgram)
    {
        ArgumentNullException.ThrowIfNull(dot);
        ArgumentNullException.ThrowIfNull(program);
        var path = Locate(program) ?? throw new GraphvizNotFoundException(program);
        var info = new ProcessStartInfo(path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(false),
        };
        info.ArgumentList.Add(format == ImageFormat.Png ? "-Tpng" : "-Tsvg");
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new GraphvizNotFoundException(program);
        }
        catch (Win32Exception)
        {
            throw new GraphvizNotFoundException(program);
        }
        using (process)
        {
            using var output = new MemoryStream();
            var copy = process.StandardOutput.BaseStream.CopyToAsync(output);
            var errors = process.StandardError.ReadToEndAsync();
            process.StandardInput.Write(dot);
            process.StandardInput.Close();
            if (!Task.WaitAll([copy, errors], Timeout) || !process.WaitForExit(Timeout))
            {
                process.Kill();
                throw new InvalidOperationException($"Graphviz '{program}' did not finish within {Timeout.TotalSeconds:0} s.");
            }
            if (process.ExitCode != 0)
                throw new InvalidOperationException(
                    $"Graphviz '{program}' failed (exit code {process.ExitCode}) rendering the graph: {errors.Result.Trim()}");
            return output.ToArray();
        }
    }

    /// <summary>The full path of <paramref name="program"/>: itself when it names a file, else the first match on PATH.</summary>
    private static string? Locate(string program)
    {
        if (program.Contains(Path.DirectorySeparatorChar) || program.Contains(Path.AltDirectorySeparatorChar))
            return File.Exists(program) ? program : null;
        var names = OperatingSystem.IsWindows() ? new[] { program, program + ".exe" } : [program];
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            foreach (var name in names)
            {
                var candidate = Path.Combine(dir, name);
                if (File.Exists(candidate)) return candidate;
            }
        return null;
    }
}
