namespace Scg.Objectives;

/// <summary>How <see cref="Aesmc.Run{TState}"/> draws the K ancestor indices when it resamples the particles.</summary>
public enum AesmcResampling
{
    /// <summary>K independent draws from the normalised weights (multinomial resampling).</summary>
    Multinomial,

    /// <summary>One uniform u, then the K evenly spaced points (k + u) / K located in the cumulative weights
    /// (systematic resampling): each particle keeps a number of copies within one of K times its weight, which
    /// usually adds less variance than multinomial draws.</summary>
    Systematic,
}
