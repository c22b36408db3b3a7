// Shared with the MSBuild inline task (see buildTransitive/Scg.Functional.targets): .NET Standard 2.0 APIs only,
// using directives inside the namespace block, and no backslashes (the targets file joins the shared files line by line).
#nullable enable
namespace Scg.Native
{
    using System.Text;

    /// <summary>
    /// A validated, read-only view of a 64-bit little-endian ELF image: the file header,
    /// the section header table, and bounds-checked field reads that report malformed
    /// input as <see cref="ElfFormatException"/>.
    /// </summary>
    internal sealed class ElfImage
    {
        internal const uint SectionTypeStringTable = 3;   // SHT_STRTAB
        internal const uint SectionTypeDynamic = 6;       // SHT_DYNAMIC
        internal const uint SectionTypeVersionNeed = 0x6ffffffe; // SHT_GNU_verneed

        private const int FileHeaderSize = 64;
        private const int SectionHeaderSize = 64;

        private readonly byte[] _data;
        private readonly ulong _sectionTableOffset;
        private readonly int _sectionCount;

        internal ElfImage(byte[] data, string? sourcePath)
        {
            _data = data;
            SourcePath = sourcePath;

            if (data.Length < 4 || data[0] != 0x7f || data[1] != (byte)'E' || data[2] != (byte)'L' || data[3] != (byte)'F')
                throw Fail("not an ELF file (the first four bytes are not 0x7f 'E' 'L' 'F')", null);
            if (data.Length < FileHeaderSize)
                throw Fail("truncated: " + data.Length + " bytes is shorter than the 64-byte ELF64 file header", null);
            if (data[4] == 1)
                throw Fail("32-bit ELF (ELFCLASS32) is not supported; only ELFCLASS64 images can be patched", 4);
            if (data[4] != 2)
                throw Fail("unknown ELF class " + data[4] + " in e_ident[EI_CLASS]", 4);
            if (data[5] == 2)
                throw Fail("big-endian ELF (ELFDATA2MSB) is not supported; only little-endian images can be patched", 5);
            if (data[5] != 1)
                throw Fail("unknown data encoding " + data[5] + " in e_ident[EI_DATA]", 5);

            _sectionTableOffset = ReadUInt64(0x28, "e_shoff");
            int entrySize = ReadUInt16(0x3a, "e_shentsize");
            int count = ReadUInt16(0x3c, "e_shnum");

            if (_sectionTableOffset == 0)
            {
                _sectionCount = 0;
                return;
            }
            if (entrySize != SectionHeaderSize)
                throw Fail("e_shentsize is " + entrySize + " but ELF64 section headers are 64 bytes", 0x3a);
            if (count == 0)
            {
                // Extended numbering: the real count lives in sh_size of section 0.
                CheckRange(_sectionTableOffset, SectionHeaderSize, "section header 0");
                ulong extended = ReadUInt64((long)_sectionTableOffset + 32, "sh_size of section 0");
                if (extended > int.MaxValue)
                    throw Fail("extended section count " + extended + " is implausible", (long)_sectionTableOffset + 32);
                count = (int)extended;
            }
            CheckRange(_sectionTableOffset, (ulong)count * SectionHeaderSize, "the section header table (" + count + " entries)");
            _sectionCount = count;
        }

        /// <summary>The file the bytes came from, or null.</summary>
        internal string? SourcePath { get; }

        /// <summary>Number of entries in the section header table.</summary>
        internal int SectionCount => _sectionCount;

        /// <summary>Reads section header <paramref name="index"/>; its contents are checked to lie inside the image.</summary>
        internal ElfSection GetSection(int index)
        {
            if (index < 0 || index >= _sectionCount)
                throw Fail("section index " + index + " is outside the section header table (" + _sectionCount + " entries)", null);
            long at = (long)_sectionTableOffset + (long)index * SectionHeaderSize;
            var section = new ElfSection(
                index,
                ReadUInt32(at + 4, "sh_type"),
                ReadUInt64(at + 24, "sh_offset"),
                ReadUInt64(at + 32, "sh_size"),
                ReadUInt32(at + 40, "sh_link"),
                ReadUInt32(at + 44, "sh_info"));
            if (section.Type != 8) // SHT_NOBITS occupies no file space
                CheckRange(section.Offset, section.Size, "the contents of section " + index);
            return section;
        }

        /// <summary>Returns the first section of the given type, or null when there is none.</summary>
        internal ElfSection? FindSection(uint type)
        {
            for (int i = 0; i < _sectionCount; i++)
            {
                ElfSection section = GetSection(i);
                if (section.Type == type)
                    return section;
            }
            return null;
        }

        /// <summary>Returns the string table that <paramref name="owner"/> names through sh_link.</summary>
        internal ElfSection GetLinkedStringTable(ElfSection owner)
        {
            if (owner.Link >= (uint)_sectionCount)
                throw Fail("sh_link " + owner.Link + " of section " + owner.Index + " names no section", null);
            ElfSection strings = GetSection((int)owner.Link);
            if (strings.Type != SectionTypeStringTable)
                throw Fail("section " + strings.Index + ", linked from section " + owner.Index + ", is not a string table (sh_type 0x" + strings.Type.ToString("x") + ")", null);
            return strings;
        }

        /// <summary>Reads the NUL-terminated string at <paramref name="offset"/> inside <paramref name="table"/>.</summary>
        internal string ReadString(ElfSection table, ulong offset)
        {
            if (offset >= table.Size)
                throw Fail("string offset " + offset + " is past the end of string table section " + table.Index, (long)table.Offset);
            long start = (long)(table.Offset + offset);
            long end = (long)(table.Offset + table.Size);
            long stop = start;
            while (stop < end && _data[stop] != 0)
                stop++;
            if (stop == end)
                throw Fail("string at offset " + offset + " of section " + table.Index + " is not NUL-terminated", start);
            return Encoding.ASCII.GetString(_data, (int)start, (int)(stop - start));
        }

        internal ushort ReadUInt16(long offset, string field)
        {
            CheckRange((ulong)offset, 2, field);
            return (ushort)(_data[offset] | (_data[offset + 1] << 8));
        }

        internal uint ReadUInt32(long offset, string field)
        {
            CheckRange((ulong)offset, 4, field);
            return (uint)(_data[offset] | (_data[offset + 1] << 8) | (_data[offset + 2] << 16) | (_data[offset + 3] << 24));
        }

        internal ulong ReadUInt64(long offset, string field)
        {
            CheckRange((ulong)offset, 8, field);
            return ReadUInt32(offset, field) | ((ulong)ReadUInt32(offset + 4, field) << 32);
        }

        /// <summary>Throws unless <paramref name="length"/> bytes from <paramref name="offset"/> lie inside the image.</summary>
        internal void CheckRange(ulong offset, ulong length, string what)
        {
            ulong size = (ulong)_data.LongLength;
            if (offset > size || length > size - offset)
                throw Fail(what + " (" + length + " bytes) runs past the end of the " + size + "-byte image", offset > long.MaxValue ? (long?)null : (long)offset);
        }

        internal ElfFormatException Fail(string problem, long? offset) => new ElfFormatException(problem, SourcePath, offset);
    }
}
