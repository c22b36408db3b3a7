// Shared with the MSBuild inline task (see buildTransitive/Scg.Functional.targets): .NET Standard 2.0 APIs only,
// using directives inside the namespace block, and no backslashes (the targets file joins the shared files line by line).
#nullable enable
namespace Scg.Native
{
    using System;
    using System.IO;

    /// <summary>
    /// Writes a file by filling a temporary sibling and renaming it over the destination, so readers see either
    /// the old or the new content, never a torn file, and a destination that is a hard link into the NuGet cache
    /// is replaced rather than written through.
    /// </summary>
    internal static class AtomicFile
    {
        /// <summary>
        /// Writes <paramref name="content"/> to <paramref name="path"/> atomically. When <paramref name="template"/>
        /// names an existing file, the temporary file starts as a copy of it so that its permission bits carry over.
        /// </summary>
        /// <param name="path">The destination file.</param>
        /// <param name="content">The bytes to store.</param>
        /// <param name="template">A file whose permissions the result should have, or null.</param>
        /// <param name="lastWriteTimeUtc">A modification time to give the result, or null for "now".</param>
        internal static void Write(string path, byte[] content, string? template, DateTime? lastWriteTimeUtc)
        {
            string directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
            string temporary = Path.Combine(directory, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N") + ".tmp");
            try
            {
                if (template != null && File.Exists(template))
                    File.Copy(template, temporary, overwrite: false);
                using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
                {
                    stream.Write(content, 0, content.Length);
                    stream.Flush(true);
                }
                if (lastWriteTimeUtc.HasValue)
                    File.SetLastWriteTimeUtc(temporary, lastWriteTimeUtc.Value);

                if (File.Exists(path))
                {
                    File.Replace(temporary, path, null);
                }
                else
                {
                    try
                    {
                        File.Move(temporary, path);
                    }
                    catch (IOException) when (File.Exists(path))
                    {
                        // Another writer got there first; rename over it (same content by construction).
                        File.Replace(temporary, path, null);
                    }
                }
            }
            finally
            {
                if (File.Exists(temporary))
                    File.Delete(temporary);
            }
        }
    }
}
