// Shared with the MSBuild inline task (see buildTransitive/Scg.Functional.targets): .NET Standard 2.0 APIs only,
// using directives inside the namespace block, and no backslashes (the targets file joins the shared files line by line).
#nullable enable
namespace Scg.Native
{
    using System;

    /// <summary>
    /// Reads and rewrites the symbol-version requirements (<c>.gnu.version_r</c>, <c>SHT_GNU_verneed</c>)
    /// of a 64-bit little-endian ELF shared object. Marking a requirement weak (<c>VER_FLG_WEAK</c>) lets
    /// the dynamic loader accept a providing library that lacks that version, which is safe when no symbol
    /// bound to that version is ever called.
    /// </summary>
    public static class ElfVersionPatcher
    {
        /// <summary>The requirement that TorchSharp 0.107's <c>libLibTorchSharp.so</c> makes of libstdc++ and Debian 12 cannot meet.</summary>
        public const string DefaultVersionName = "GLIBCXX_3.4.32";

        /// <summary>The <c>vna_flags</c> bit that makes a version requirement weak.</summary>
        public const ushort VersionFlagWeak = 0x2;

        private const int VerneedSize = 16;
        private const int VernauxSize = 16;

        /// <summary>
        /// Returns a copy of <paramref name="image"/> in which the version-needed entry named
        /// <paramref name="versionName"/> carries <c>VER_FLG_WEAK</c>. The input array is never modified.
        /// </summary>
        /// <param name="image">The complete bytes of an ELF64 little-endian file.</param>
        /// <param name="versionName">The version to make weak, e.g. <c>GLIBCXX_3.4.32</c>.</param>
        /// <param name="sourcePath">The file the bytes came from, used only in error messages; may be null.</param>
        /// <returns>What was found, the resulting bytes, and where the flags field is.</returns>
        /// <exception cref="ElfFormatException">The bytes are not a well-formed ELF64 little-endian image.</exception>
        public static ElfPatchOutcome Patch(byte[] image, string versionName = DefaultVersionName, string? sourcePath = null)
        {
            long flagsOffset = FindFlagsOffset(image, versionName, sourcePath, out ushort flags);
            if (flagsOffset < 0)
                return new ElfPatchOutcome(ElfPatchResult.EntryNotFound, image, -1);
            if ((flags & VersionFlagWeak) != 0)
                return new ElfPatchOutcome(ElfPatchResult.AlreadyWeak, image, flagsOffset);

            var patched = (byte[])image.Clone();
            ushort updated = (ushort)(flags | VersionFlagWeak);
            patched[flagsOffset] = (byte)updated;
            patched[flagsOffset + 1] = (byte)(updated >> 8);
            return new ElfPatchOutcome(ElfPatchResult.Patched, patched, flagsOffset);
        }

        /// <summary>Reports whether the image requires <paramref name="versionName"/>, and whether that requirement is weak.</summary>
        /// <param name="image">The complete bytes of an ELF64 little-endian file.</param>
        /// <param name="versionName">The version to look for, e.g. <c>GLIBCXX_3.4.32</c>.</param>
        /// <param name="sourcePath">The file the bytes came from, used only in error messages; may be null.</param>
        /// <returns><see cref="ElfVersionState.Absent"/>, <see cref="ElfVersionState.Required"/> or <see cref="ElfVersionState.Weak"/>.</returns>
        /// <exception cref="ElfFormatException">The bytes are not a well-formed ELF64 little-endian image.</exception>
        public static ElfVersionState Query(byte[] image, string versionName = DefaultVersionName, string? sourcePath = null)
        {
            long flagsOffset = FindFlagsOffset(image, versionName, sourcePath, out ushort flags);
            if (flagsOffset < 0)
                return ElfVersionState.Absent;
            return (flags & VersionFlagWeak) != 0 ? ElfVersionState.Weak : ElfVersionState.Required;
        }

        /// <summary>
        /// Walks every Verneed entry (one per needed library) and its Vernaux chain (one per version)
        /// and returns the offset of the <c>vna_flags</c> field of the entry named <paramref name="versionName"/>,
        /// or -1 when there is none.
        /// </summary>
        private static long FindFlagsOffset(byte[] image, string versionName, string? sourcePath, out ushort flags)
        {
            if (image == null)
                throw new ArgumentNullException(nameof(image));
            if (string.IsNullOrEmpty(versionName))
                throw new ArgumentException("A version name is required.", nameof(versionName));

            flags = 0;
            var elf = new ElfImage(image, sourcePath);
            ElfSection? found = elf.FindSection(ElfImage.SectionTypeVersionNeed);
            if (!found.HasValue)
                return -1;
            ElfSection verneed = found.Value;
            ElfSection strings = elf.GetLinkedStringTable(verneed);

            ulong sectionEnd = verneed.Offset + verneed.Size;
            ulong maxEntries = verneed.Size / VerneedSize;
            ulong position = verneed.Offset;
            for (ulong entry = 0; ; entry++)
            {
                if (entry >= maxEntries)
                    throw elf.Fail("the vn_next chain of section " + verneed.Index + " does not terminate within the section (a loop or corrupt link)", (long)position);
                CheckEntry(elf, position, VerneedSize, sectionEnd, "Verneed entry " + entry);

                ushort auxCount = elf.ReadUInt16((long)position + 2, "vn_cnt");
                uint auxOffset = elf.ReadUInt32((long)position + 8, "vn_aux");
                uint next = elf.ReadUInt32((long)position + 12, "vn_next");

                ulong aux = position + auxOffset;
                for (int i = 0; i < auxCount; i++)
                {
                    if (aux >= sectionEnd || (ulong)i >= maxEntries)
                        throw elf.Fail("Vernaux " + i + " of Verneed entry " + entry + " lies outside section " + verneed.Index + " (a loop or corrupt vna_next)", (long)aux);
                    CheckEntry(elf, aux, VernauxSize, sectionEnd, "Vernaux " + i + " of Verneed entry " + entry);

                    uint nameOffset = elf.ReadUInt32((long)aux + 8, "vna_name");
                    if (string.Equals(elf.ReadString(strings, nameOffset), versionName, StringComparison.Ordinal))
                    {
                        flags = elf.ReadUInt16((long)aux + 4, "vna_flags");
                        return (long)aux + 4;
                    }

                    uint auxNext = elf.ReadUInt32((long)aux + 12, "vna_next");
                    if (auxNext == 0)
                        break;
                    if (auxNext < VernauxSize)
                        throw elf.Fail("vna_next " + auxNext + " of Vernaux " + i + " would overlap the entry itself", (long)aux + 12);
                    aux += auxNext;
                }

                if (next == 0)
                    return -1;
                if (next < VerneedSize)
                    throw elf.Fail("vn_next " + next + " of Verneed entry " + entry + " would overlap the entry itself", (long)position + 12);
                position += next;
            }
        }

        private static void CheckEntry(ElfImage elf, ulong position, ulong size, ulong sectionEnd, string what)
        {
            if (position > sectionEnd || size > sectionEnd - position)
                throw elf.Fail(what + " runs past the end of the .gnu.version_r section", (long)position);
        }
    }
}
