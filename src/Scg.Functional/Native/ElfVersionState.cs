// Shared with the MSBuild inline task (see buildTransitive/Scg.Functional.targets): .NET Standard 2.0 APIs only,
// using directives inside the namespace block, and no backslashes (the targets file joins the shared files line by line).
#nullable enable
namespace Scg.Native
{
    /// <summary>The state of one named symbol-version requirement in an ELF image, as reported by <see cref="ElfVersionPatcher.Query"/>.</summary>
    public enum ElfVersionState
    {
        /// <summary>No version-needed entry has that name, so the dynamic loader will not ask for that version.</summary>
        Absent,

        /// <summary>The entry exists without <c>VER_FLG_WEAK</c>: loading fails when the providing library lacks that version.</summary>
        Required,

        /// <summary>The entry exists with <c>VER_FLG_WEAK</c>: the loader tolerates a providing library that lacks that version.</summary>
        Weak,
    }
}
