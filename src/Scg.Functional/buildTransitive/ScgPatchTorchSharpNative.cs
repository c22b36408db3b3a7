// The MSBuild task class behind Scg.Functional.targets. It is compiled by RoslynCodeTaskFactory together
// with the shared ELF sources (Native/*.cs), which the targets file concatenates into one compilation unit.
// It is not part of the Scg.Functional assembly (the csproj removes it from Compile).
#nullable enable
namespace Scg.Native.Build
{
    using System;
    using System.Collections.Generic;
    using System.IO;
    using Microsoft.Build.Framework;
    using Microsoft.Build.Utilities;

    /// <summary>
    /// Marks the GLIBCXX_3.4.32 requirement of each given libLibTorchSharp.so weak, in place, when the
    /// build machine's libstdc++ lacks that version. Missing files are skipped; already patched files are left alone.
    /// </summary>
    public sealed class ScgPatchTorchSharpNative : Microsoft.Build.Utilities.Task
    {
        /// <summary>Candidate copies of libLibTorchSharp.so; those that do not exist are ignored.</summary>
        [Required]
        public ITaskItem[] Files { get; set; } = new ITaskItem[0];

        /// <summary>The files that were rewritten.</summary>
        [Output]
        public ITaskItem[] PatchedFiles { get; set; } = new ITaskItem[0];

        /// <summary>Runs the task.</summary>
        public override bool Execute()
        {
            LibStdCxxStatus status = LibStdCxx.ProbeGlibcxx3432();
            if (status != LibStdCxxStatus.Missing)
            {
                Log.LogMessage(MessageImportance.Low, "Scg: libstdc++ probe says {0}; TorchSharp's native shim is left untouched.", status);
                return true;
            }

            var patched = new List<ITaskItem>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (ITaskItem item in Files)
            {
                string path = Path.GetFullPath(item.ItemSpec);
                if (!seen.Add(path) || !File.Exists(path))
                    continue;
                try
                {
                    byte[] original = File.ReadAllBytes(path);
                    ElfPatchOutcome outcome = ElfVersionPatcher.Patch(original, ElfVersionPatcher.DefaultVersionName, path);
                    if (outcome.Result != ElfPatchResult.Patched)
                    {
                        Log.LogMessage(MessageImportance.Low, "Scg: {0}: {1}, nothing to do.", path, outcome.Result);
                        continue;
                    }
                    // Keep the original timestamp so that incremental copies (same size, same time) do not
                    // put the unpatched file back; replace by rename so a hard link into the NuGet cache is not written through.
                    AtomicFile.Write(path, outcome.Image, path, File.GetLastWriteTimeUtc(path));
                    Log.LogMessage(MessageImportance.Normal, "Scg: marked {0} weak in {1} (this system's libstdc++ lacks it).", ElfVersionPatcher.DefaultVersionName, path);
                    patched.Add(new TaskItem(path));
                }
                catch (Exception e) when (e is ElfFormatException || e is IOException || e is UnauthorizedAccessException)
                {
                    Log.LogWarning("Scg: could not patch {0}: {1} TorchSharp may then fail to load with 'version GLIBCXX_3.4.32 not found'.", path, e.Message);
                }
            }
            PatchedFiles = patched.ToArray();
            return true;
        }
    }
}
