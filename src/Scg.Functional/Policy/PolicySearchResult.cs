using System.Collections.Generic;

namespace Scg.Policy;

/// <summary>What <see cref="PolicySearch.Train"/> did.</summary>
/// <param name="Returns">Every episode's undiscounted return, in the order they were played (the environments of one
/// update in index order).</param>
/// <param name="EpisodesToSolve">The number of episodes after which <see cref="PolicySearchOptions.Solved"/> first held,
/// or null when it never did.</param>
/// <param name="Updates">The number of gradient steps taken.</param>
public sealed record PolicySearchResult(IReadOnlyList<double> Returns, int? EpisodesToSolve, int Updates);
