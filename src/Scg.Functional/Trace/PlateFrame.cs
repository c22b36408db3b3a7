namespace Scg.Tracing;

/// <summary>
/// A plate: a named batch dimension of fixed size inside which sites and costs are conditionally independent
/// element by element. <see cref="Dim"/> counts from the right of the batch shape (-1 is the rightmost).
/// </summary>
/// <param name="Name">The plate's name, unique within a run.</param>
/// <param name="Size">The number of elements.</param>
/// <param name="Dim">The batch dimension the plate occupies, a negative index from the right.</param>
/// <param name="Id">The plate's index within its run (0, 1, …), used for fast set operations.</param>
public sealed record PlateFrame(string Name, long Size, int Dim, int Id)
{
    /// <summary>
    /// The factor the costs and observations inside the plate are multiplied by: N / B for a plate that runs a
    /// random minibatch of B of N data points (<c>Model.Subsample</c>), 1 otherwise.
    /// </summary>
    public double Scale { get; init; } = 1.0;

    /// <summary>The name of the plate that interpreters open for vectorised particles.</summary>
    public const string ParticlesName = "particles";

    /// <summary>True for the vectorised-particles plate.</summary>
    public bool IsParticles => Name == ParticlesName;

    /// <inheritdoc />
    public override string ToString() => $"{Name}[{Size}]@{Dim}";
}
