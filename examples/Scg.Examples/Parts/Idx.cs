using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;

namespace Scg.Examples.Parts;

/// <summary>An array of unsigned bytes read from an IDX file: its dimensions (big-endian in the file) and its data, row-major.</summary>
/// <param name="Dimensions">The size of every dimension, outermost first (images: count, rows, columns).</param>
/// <param name="Data">The values, row-major.</param>
public sealed record IdxArray(int[] Dimensions, byte[] Data);

/// <summary>
/// The IDX format of the MNIST files: two zero bytes, a type byte (0x08: unsigned byte, the only type read here),
/// the number of dimensions, each dimension as a big-endian int32, then the data. Files ending in .gz are
/// decompressed on the fly.
/// </summary>
public static class Idx
{
    private const byte UnsignedByte = 0x08;

    /// <summary>Reads an unsigned-byte IDX file (gzip-compressed when its name ends in .gz).</summary>
    /// <exception cref="InvalidDataException">The file is not an unsigned-byte IDX file, or it is truncated.</exception>
    public static IdxArray Read(string path)
    {
        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        try { return Read(stream); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
    }

    /// <summary>Reads an unsigned-byte IDX array from a stream.</summary>
    /// <exception cref="InvalidDataException">The stream is not an unsigned-byte IDX array, or it is truncated.</exception>
    public static IdxArray Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var header = ReadExactly(stream, 4, "header");
        if (header[0] != 0 || header[1] != 0)
            throw new InvalidDataException("not an IDX file (its first two bytes are not zero).");
        if (header[2] != UnsignedByte)
            throw new InvalidDataException($"IDX type 0x{header[2]:x2} is not supported (only unsigned bytes, 0x08).");
        var rank = header[3];
        if (rank == 0) throw new InvalidDataException("an IDX array with no dimension.");
        var dims = new int[rank];
        var sizes = ReadExactly(stream, 4 * rank, "dimensions");
        long count = 1;
        for (var i = 0; i < rank; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(sizes.AsSpan(4 * i));
            if (dims[i] < 0) throw new InvalidDataException($"dimension {i} is negative ({dims[i]}).");
            count *= dims[i];
        }
        if (count > Array.MaxLength) throw new InvalidDataException($"{count} values are too many for one array.");
        return new IdxArray(dims, ReadExactly(stream, (int)count, "data"));
    }

    /// <summary>Writes an unsigned-byte IDX array (uncompressed).</summary>
    /// <exception cref="ArgumentException">The data's length is not the product of the dimensions.</exception>
    public static void Write(Stream stream, IdxArray array)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(array);
        long count = 1;
        foreach (var d in array.Dimensions) count *= d;
        if (count != array.Data.Length || array.Dimensions.Length is 0 or > 255)
            throw new ArgumentException($"IDX: {array.Data.Length} values do not fill dimensions [{string.Join(", ", array.Dimensions)}].", nameof(array));
        var header = new byte[4 + 4 * array.Dimensions.Length];
        header[2] = UnsignedByte;
        header[3] = (byte)array.Dimensions.Length;
        for (var i = 0; i < array.Dimensions.Length; i++)
            BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * i), array.Dimensions[i]);
        stream.Write(header);
        stream.Write(array.Data);
    }

    private static byte[] ReadExactly(Stream stream, int count, string part)
    {
        var buffer = new byte[count];
        var read = stream.ReadAtLeast(buffer, count, throwOnEndOfStream: false);
        if (read < count) throw new InvalidDataException($"truncated IDX {part} ({read} of {count} bytes).");
        return buffer;
    }
}
