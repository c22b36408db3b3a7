using System;
using System.IO;
using SkiaSharp;
using static TorchSharp.torch;

namespace Scg.Pictures;

/// <summary>
/// Small grayscale images (digits, reconstructions, samples of a generative model) laid out in a grid, ink dark on
/// white, ready to write as PNG or to show in a notebook cell. Made from a tensor by <see cref="Of"/>.
/// </summary>
public sealed class ImageGrid
{
    private const int Pad = 2;
    private readonly byte[] _pixels;

    private ImageGrid(byte[] pixels, int width, int height, int count)
    {
        (_pixels, Width, Height, Count) = (pixels, width, height, count);
    }

    /// <summary>Width of the whole grid in pixels.</summary>
    public int Width { get; }

    /// <summary>Height of the whole grid in pixels.</summary>
    public int Height { get; }

    /// <summary>How many images the grid shows.</summary>
    public int Count { get; }

    /// <summary>
    /// Lays out <paramref name="images"/> row by row, <paramref name="columns"/> to a row: a tensor of shape
    /// [N, H, W], or [N, D] with D a square (each row then a square image), intensities in [0, 1] (probabilities of a
    /// Bernoulli decoder, binarised pixels); values outside are clamped. Any dtype and device: the values are copied
    /// to the CPU, without gradient.
    /// </summary>
    /// <param name="images">The images.</param>
    /// <param name="columns">Images per row, at least one (the last row may be partly empty).</param>
    /// <param name="scale">Each pixel drawn as scale × scale pixels, 1 to 16.</param>
    /// <exception cref="ArgumentException">The tensor is not of one of the two shapes, holds no image, or holds NaN.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="columns"/> or <paramref name="scale"/> out of range.</exception>
    public static ImageGrid Of(Tensor images, int columns, int scale = 2)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(scale, 16);
        var (count, side, wide) = ShapeOf(images);
        float[] values;
        // the scope holds each intermediate of the chain until it ends, so none is finalized while the next reads it
        using (no_grad())
        using (NewDisposeScope())
            values = images.detach().to(CPU).to_type(ScalarType.Float32).reshape(-1).data<float>().ToArray();
        if (Array.FindIndex(values, float.IsNaN) is var nan and >= 0)
            throw new ArgumentException(
                $"ImageGrid: image {nan / (side * wide)} holds NaN (pixel {nan % (side * wide)}); a picture of it would hide that.", nameof(images));
        var rows = (count + columns - 1) / columns;
        var width = (columns * (wide + Pad) + Pad) * scale;
        var height = (rows * (side + Pad) + Pad) * scale;
        var pixels = new byte[width * height];
        Array.Fill(pixels, (byte)255);
        for (var index = 0; index < count; index++)
        {
            var top = Pad + index / columns * (side + Pad);
            var left = Pad + index % columns * (wide + Pad);
            for (var y = 0; y < side; y++)
                for (var x = 0; x < wide; x++)
                {
                    var shade = (byte)Math.Round(255 * (1 - Math.Clamp(values[(index * side + y) * wide + x], 0f, 1f)));
                    for (var dy = 0; dy < scale; dy++)
                        Array.Fill(pixels, shade, ((top + y) * scale + dy) * width + (left + x) * scale, scale);
                }
        }
        return new ImageGrid(pixels, width, height, count);
    }

    /// <summary>The grid as PNG bytes (8-bit grayscale).</summary>
    public byte[] Png()
    {
        var info = new SKImageInfo(Width, Height, SKColorType.Gray8, SKAlphaType.Opaque);
        using var image = SKImage.FromPixelCopy(info, _pixels, Width);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>Writes the grid as a PNG file.</summary>
    /// <param name="path">The file to write (ending in <c>.png</c>); its folder must exist.</param>
    /// <exception cref="ArgumentException">The extension is not <c>.png</c>.</exception>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Files.FormatOf(path) != ImageFormat.Png)
            throw new ArgumentException($"ImageGrid writes PNG only: '{path}' does not end in .png.", nameof(path));
        File.WriteAllBytes(path, Png());
    }

    private static (int Count, int Side, int Wide) ShapeOf(Tensor images)
    {
        var shape = images.shape;
        var text = "[" + string.Join(", ", shape) + "]";
        switch (shape.Length)
        {
            case 3 when shape[0] > 0 && shape[1] > 0 && shape[2] > 0:
                return ((int)shape[0], (int)shape[1], (int)shape[2]);
            case 2 when shape[0] > 0 && shape[1] > 0:
                var side = (int)Math.Round(Math.Sqrt(shape[1]));
                if ((long)side * side != shape[1])
                    throw new ArgumentException(
                        $"ImageGrid: images of shape {text} have {shape[1]} pixels each, not a square number; reshape them to [N, H, W].", nameof(images));
                return ((int)shape[0], side, side);
            default:
                throw new ArgumentException(
                    $"ImageGrid: expected images of shape [N, H, W] or [N, H·W] (N at least 1), got {text}.", nameof(images));
        }
    }
}
