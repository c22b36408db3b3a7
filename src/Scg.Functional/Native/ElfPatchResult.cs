// Shared with the MSBuild inline task (see buildTransitive/Scg.Functional.targets): .NET Standard 2.0 APIs only,
// using directives inside the namespace block, and no backslashes (the targets file joins the shared files line by line).
#nullable enable
namespace Scg.Native
{
    /// <summary>What <see cref="ElfVersionPatcher.Patch"/> found and did.</summary>
    public enum ElfPatchResult
    {
        /// <summary>The version requirement was strong; the returned image has <c>VER_FLG_WEAK</c> set on it.</summary>
        Patched,

        /// <summary>The version requirement already carried <c>VER_FLG_WEAK</c>; the image is returned unchanged.</summary>
        AlreadyWeak,

        /// <summary>The image has no version-needed entry with the requested name (or no <c>.gnu.version_r</c> at all); the image is returned unchanged.</summary>
        EntryNotFound,
    }
}
