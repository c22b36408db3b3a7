namespace Scg.Pictures;

/// <summary>The file formats pictures are written in.</summary>
public enum ImageFormat
{
    /// <summary>Scalable vector graphics (text).</summary>
    Svg,

    /// <summary>Portable network graphics (bytes).</summary>
    Png,
}
