// Shared with the MSBuild inline task (see buildTransitive/Scg.Functional.targets): .NET Standard 2.0 APIs only,
// using directives inside the namespace block, and no backslashes (the targets file joins the shared files line by line).
#nullable enable
namespace Scg.Native
{
    /// <summary>The fields of one ELF64 section header that the patcher needs.</summary>
    internal readonly struct ElfSection
    {
        internal ElfSection(int index, uint type, ulong offset, ulong size, uint link, uint info)
        {
            Index = index;
            Type = type;
            Offset = offset;
            Size = size;
            Link = link;
            Info = info;
        }

        internal int Index { get; }
        internal uint Type { get; }
        internal ulong Offset { get; }
        internal ulong Size { get; }
        internal uint Link { get; }
        internal uint Info { get; }
    }
}
