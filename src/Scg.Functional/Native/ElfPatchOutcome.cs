// Shared with the MSBuild inline task (see buildTransitive/Scg.Functional.targets): .NET Standard 2.0 APIs only,
// using directives inside the namespace block, and no backslashes (the targets file joins the shared files line by line).
#nullable enable
namespace Scg.Native
{
    /// <summary>The result of <see cref="ElfVersionPatcher.Patch"/>: what happened and the resulting image bytes.</summary>
    public sealed class ElfPatchOutcome
    {
        /// <summary>Creates an outcome; used by <see cref="ElfVersionPatcher"/>.</summary>
        /// <param name="result">What the patcher found and did.</param>
        /// <param name="image">The resulting image bytes.</param>
        /// <param name="flagsOffset">Byte offset of the entry's <c>vna_flags</c> field, or -1 when the entry was not found.</param>
        public ElfPatchOutcome(ElfPatchResult result, byte[] image, long flagsOffset)
        {
            Result = result;
            Image = image;
            FlagsOffset = flagsOffset;
        }

        /// <summary>What the patcher found and did.</summary>
        public ElfPatchResult Result { get; }

        /// <summary>
        /// The resulting image. For <see cref="ElfPatchResult.Patched"/> this is a new array that differs from the
        /// input only in the <c>vna_flags</c> field at <see cref="FlagsOffset"/>; otherwise it is the input array itself.
        /// </summary>
        public byte[] Image { get; }

        /// <summary>Byte offset of the two-byte <c>vna_flags</c> field of the matching entry, or -1 when no entry matched.</summary>
        public long FlagsOffset { get; }
    }
}
