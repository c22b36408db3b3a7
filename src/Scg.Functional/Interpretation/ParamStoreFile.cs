using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using Scg.Distributions;
using static TorchSharp.torch;

namespace Scg.Interpretation;

/// <summary>
/// The file format of <see cref="ParamStore.Save(System.IO.Stream)"/>: a header, then one entry per tensor (its kind, name,
/// element type, shape and raw little-endian bytes). Kinds: a named parameter, a state tensor, or one entry of a
/// registered module's state dictionary (the module's name, and the entry's key in it).
/// </summary>
internal static class ParamStoreFile
{
    private const string Magic = "SCG-PARAMSTORE";
    private const int Version = 1;

    public enum Kind : byte
    {
        Parameter = 1,
        State = 2,
        Module = 3,
    }

    public sealed record Entry(Kind Kind, string Name, string Key, Tensor Value);

    public static void Write(Stream stream, IEnumerable<Entry> entries)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(Version);
        var list = new List<Entry>(entries);
        writer.Write(list.Count);
        foreach (var (kind, name, key, value) in list)
        {
            using var cpu = value.detach().cpu().contiguous();
            writer.Write((byte)kind);
            writer.Write(name);
            writer.Write(key);
            writer.Write((int)cpu.dtype);
            writer.Write((int)cpu.Dimensions);
            foreach (var d in cpu.shape) writer.Write(d);
            var bytes = cpu.bytes;
            writer.Write(bytes.Length);
            writer.Write(bytes);
        }
    }

    public static List<Entry> Read(Stream stream)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        string magic;
        try
        {
            magic = reader.ReadString();
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or FormatException)
        {
            throw new InvalidDataException("Not a saved ParamStore: the file is empty or has no header.", e);
        }
        if (magic != Magic) throw new InvalidDataException("Not a saved ParamStore: the header is missing.");
        var version = reader.ReadInt32();
        if (version != Version) throw new InvalidDataException($"A saved ParamStore of format version {version}; this Scg reads version {Version}.");
        var count = reader.ReadInt32();
        var entries = new List<Entry>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var kind = (Kind)reader.ReadByte();
                var name = reader.ReadString();
                var key = reader.ReadString();
                var dtype = (ScalarType)reader.ReadInt32();
                var rank = reader.ReadInt32();
                if (rank is < 0 or > 64) throw new InvalidDataException($"Saved ParamStore entry '{name}' has a corrupt shape.");
                var shape = new long[rank];
                long elements = 1;
                for (var d = 0; d < shape.Length; d++)
                {
                    shape[d] = reader.ReadInt64();
                    if (shape[d] < 0) throw new InvalidDataException($"Saved ParamStore entry '{name}' has a corrupt shape.");
                    elements *= shape[d];
                }
                var length = reader.ReadInt32();
                var data = reader.ReadBytes(length);
                if (data.Length != length) throw new EndOfStreamException();
                if (!Enum.IsDefined(dtype)) throw new InvalidDataException($"Saved ParamStore entry '{name}' has an unknown element type {(int)dtype}.");
                using (var probe = empty([0], dtype))
                    if (elements * probe.ElementSize != length)
                        throw new InvalidDataException($"Saved ParamStore entry '{name}': {length} bytes do not fit shape [{Shapes.Format(shape)}] of {dtype}.");
                var value = empty(shape, dtype);
                value.bytes = data;
                value.DetachFromDisposeScope();
                entries.Add(new Entry(kind, name, key, value));
            }
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("The saved ParamStore is truncated.", e);
        }
        return entries;
    }
}
