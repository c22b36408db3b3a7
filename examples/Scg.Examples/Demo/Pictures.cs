using System;
using System.IO;
using Scg.Examples.Parts;

namespace Scg.Examples.Demo;

/// <summary>Grids of 28×28 images written as grayscale PNG files (ink dark on white, scaled up).</summary>
internal static class Pictures
{
    private const int Pad = 2;

    /// <summary>Writes images (rows × columns of them, intensities in [0, 1], row-major) as one PNG.</summary>
    public static void WriteGrid(string path, float[][] images, int rows, int columns, int side = 28, int scale = 1)
    {
        var cell = side + Pad;
        var width = (columns * cell + Pad) * scale;
        var height = (rows * cell + Pad) * scale;
        var pixels = new byte[width * height];
        Array.Fill(pixels, (byte)255);
        for (var index = 0; index < Math.Min(images.Length, rows * columns); index++)
        {
            var (top, left) = (Pad + index / columns * cell, Pad + index % columns * cell);
            for (var y = 0; y < side; y++)
                for (var x = 0; x < side; x++)
                {
                    var shade = (byte)Math.Round(255 * (1 - Math.Clamp(images[index][y * side + x], 0f, 1f)));
                    for (var dy = 0; dy < scale; dy++)
                        for (var dx = 0; dx < scale; dx++)
                            pixels[((top + y) * scale + dy) * width + (left + x) * scale + dx] = shade;
                }
        }
        File.WriteAllBytes(path, GrayPng.Encode(pixels, width, height));
    }
}
