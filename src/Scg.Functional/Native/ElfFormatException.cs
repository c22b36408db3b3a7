// Shared with the MSBuild inline task (see buildTransitive/Scg.Functional.targets): .NET Standard 2.0 APIs only,
// using directives inside the namespace block, and no backslashes (the targets file joins the shared files line by line).
#nullable enable
namespace Scg.Native
{
    using System;

    /// <summary>
    /// Thrown when bytes handed to <see cref="ElfVersionPatcher"/> are not a well-formed
    /// 64-bit little-endian ELF image, for example a truncated file, a 32-bit or big-endian
    /// object, a section table that points past the end of the data, or a version-needed
    /// chain that runs outside its section.
    /// </summary>
    public sealed class ElfFormatException : FormatException
    {
        /// <summary>
        /// Creates the exception. The message is prefixed with <paramref name="sourcePath"/>
        /// when it is known and suffixed with the byte offset of the problem when it is known.
        /// </summary>
        /// <param name="problem">What is wrong, in a short sentence without trailing period.</param>
        /// <param name="sourcePath">The file the bytes came from, or <c>null</c> when they did not come from a file.</param>
        /// <param name="offset">The byte offset in the image where the problem was found, or <c>null</c>.</param>
        public ElfFormatException(string problem, string? sourcePath, long? offset)
            : base(Describe(problem, sourcePath, offset))
        {
            Problem = problem;
            SourcePath = sourcePath;
            Offset = offset;
        }

        /// <summary>The short description of what is wrong, without the path and offset decoration.</summary>
        public string Problem { get; }

        /// <summary>The file the malformed bytes came from, or <c>null</c> when unknown.</summary>
        public string? SourcePath { get; }

        /// <summary>The byte offset in the image where the problem was detected, or <c>null</c> when it concerns the whole image.</summary>
        public long? Offset { get; }

        private static string Describe(string problem, string? sourcePath, long? offset)
        {
            string where = sourcePath == null ? "ELF image" : "ELF file '" + sourcePath + "'";
            string at = offset.HasValue ? " (at byte offset 0x" + offset.Value.ToString("x") + ")" : string.Empty;
            return where + ": " + problem + at + ".";
        }
    }
}
