#nullable enable
namespace Scg.Native
{
    using System.Collections.Generic;

    /// <summary>Reads the <c>DT_NEEDED</c> entries (the sonames a shared object links against) from an ELF64 image.</summary>
    internal static class ElfDynamicSection
    {
        private const long DynamicTagNull = 0;
        private const long DynamicTagNeeded = 1;
        private const int EntrySize = 16;

        /// <summary>Returns the sonames listed as <c>DT_NEEDED</c>, in file order; empty when there is no dynamic section.</summary>
        /// <exception cref="ElfFormatException">The image is malformed.</exception>
        internal static IReadOnlyList<string> ReadNeeded(byte[] image, string? sourcePath)
        {
            var elf = new ElfImage(image, sourcePath);
            var needed = new List<string>();
            ElfSection? found = elf.FindSection(ElfImage.SectionTypeDynamic);
            if (!found.HasValue)
                return needed;
            ElfSection dynamic = found.Value;
            ElfSection strings = elf.GetLinkedStringTable(dynamic);
            for (ulong at = dynamic.Offset; at + EntrySize <= dynamic.Offset + dynamic.Size; at += EntrySize)
            {
                long tag = (long)elf.ReadUInt64((long)at, "d_tag");
                if (tag == DynamicTagNull)
                    break;
                if (tag == DynamicTagNeeded)
                    needed.Add(elf.ReadString(strings, elf.ReadUInt64((long)at + 8, "d_val")));
            }
            return needed;
        }
    }
}
