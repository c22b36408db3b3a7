using System;
using System.Linq;

namespace Scg.Examples.Data;

/// <summary>Grayscale images (one byte per pixel, row-major) with their labels.</summary>
/// <param name="Pixels">Count × Rows × Columns bytes, 0 … 255.</param>
/// <param name="Labels">One label per image.</param>
/// <param name="Rows">Image height.</param>
/// <param name="Columns">Image width.</param>
/// <param name="Source">Where the images came from, for messages.</param>
internal sealed record DigitSet(byte[] Pixels, byte[] Labels, int Rows, int Columns, string Source)
{
    public int Count => Labels.Length;
    public int Size => Rows * Columns;

    /// <summary>The images at the given positions, in that order.</summary>
    public DigitSet Take(int[] positions)
    {
        var pixels = new byte[positions.Length * Size];
        for (var i = 0; i < positions.Length; i++)
            Array.Copy(Pixels, (long)positions[i] * Size, pixels, (long)i * Size, Size);
        return this with { Pixels = pixels, Labels = positions.Select(p => Labels[p]).ToArray() };
    }

    /// <summary>A fixed split: a permutation drawn from <paramref name="seed"/> (independent of the run's seed),
    /// its first <paramref name="testCount"/> images the test set, the rest the training set.</summary>
    public (DigitSet Train, DigitSet Test) Split(int testCount, int seed = 20251125)
    {
        if (testCount <= 0 || testCount >= Count)
            throw new ArgumentOutOfRangeException(nameof(testCount), $"{Source}: cannot hold out {testCount} of {Count} images.");
        var order = Enumerable.Range(0, Count).ToArray();
        new Random(seed).Shuffle(order);
        return (Take(order[testCount..]), Take(order[..testCount]));
    }

    /// <summary>Concatenates two sets of equally sized images.</summary>
    public DigitSet Concat(DigitSet other) =>
        other.Rows != Rows || other.Columns != Columns
            ? throw new ArgumentException($"{other.Source}: {other.Rows}×{other.Columns} images do not match {Source}'s {Rows}×{Columns}.")
            : this with { Pixels = [.. Pixels, .. other.Pixels], Labels = [.. Labels, .. other.Labels], Source = $"{Source} + {other.Source}" };
}
