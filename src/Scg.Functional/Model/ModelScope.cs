using System;

namespace Scg;

public static partial class Model
{
    /// <summary>
    /// Runs <paramref name="body"/> with <paramref name="prefix"/> and a slash in front of the name of every sample site,
    /// observation, cost, parameter and module inside it (nested scopes join: <c>outer/inner/z</c>), so that one sub-model
    /// can be used twice in a run: <c>Model.Scope("left", Encoder())</c> and <c>Model.Scope("right", Encoder())</c> record
    /// <c>left/z</c> and <c>right/z</c>, and read the parameters <c>left/w</c> and <c>right/w</c> (a scope gives its sub-model
    /// parameters of its own; pass a module object built outside to share one). Plate names are not prefixed: a plate is
    /// a dimension of the data, shared by everything that opens it. Names given elsewhere (replayed values,
    /// <see cref="Interpretation.RunOptions.Estimators"/>, a trace's lookups) are the full names; a learned baseline's
    /// inputs are looked up in its site's scopes first (see <see cref="Estimators.Baseline.Learned"/>).
    /// </summary>
    /// <typeparam name="T">The body's value type.</typeparam>
    /// <param name="prefix">The scope's name: not empty or blank, without '/'.</param>
    /// <param name="body">The model run inside the scope.</param>
    /// <exception cref="ArgumentException">The prefix is empty, blank or contains '/'.</exception>
    public static Model<T> Scope<T>(string prefix, Model<T> body)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        ArgumentNullException.ThrowIfNull(body);
        if (prefix.Contains('/', StringComparison.Ordinal))
            throw new ArgumentException($"Model.Scope: the prefix '{prefix}' contains '/'; nest two scopes instead.", nameof(prefix));
        return new(new NameScopeStep(prefix, body.Program));
    }

    /// <summary>The run's current name prefix (empty outside every scope): what <see cref="Scope{T}"/> puts in front of names.</summary>
    internal static Model<string> NamePrefix() => new(ctx => ctx.Qualify(string.Empty));
}
