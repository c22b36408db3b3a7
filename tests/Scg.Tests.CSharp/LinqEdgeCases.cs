using Scg.Linq;

namespace Scg.Tests.CSharp;

/// <summary>LINQ queries that misuse the operators, for the error-message tests.</summary>
public static class LinqEdgeCases
{
    /// <summary>A query whose second <c>from</c> clause yields a null model.</summary>
    public static Model<int> NullContinuation() =>
        from a in Model.Return(1)
        from b in Missing(a)
        select a + b;

    private static Model<int> Missing(int _) => null!;
}
