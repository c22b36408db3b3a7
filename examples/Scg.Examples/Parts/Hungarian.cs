using System;

namespace Scg.Examples.Parts;

/// <summary>
/// The assignment problem: a one-to-one matching of the n rows of a square cost matrix to its n columns with the
/// least total cost, by the Hungarian method with row and column potentials (O(n³)).
/// </summary>
public static class Hungarian
{
    /// <summary>For each row, the column it is matched to, minimising the sum of the matched costs.</summary>
    /// <param name="cost">A square matrix of finite costs.</param>
    /// <exception cref="ArgumentException">The matrix is not square or holds a non-finite cost.</exception>
    public static int[] Minimise(double[,] cost)
    {
        ArgumentNullException.ThrowIfNull(cost);
        var n = cost.GetLength(0);
        if (cost.GetLength(1) != n) throw new ArgumentException($"Hungarian: the cost matrix is {n}×{cost.GetLength(1)}, not square.", nameof(cost));
        foreach (var c in cost)
            if (!double.IsFinite(c)) throw new ArgumentException("Hungarian: every cost must be finite.", nameof(cost));

        // 1-based arrays; column 0 is a virtual column holding the row being inserted.
        var rowPotential = new double[n + 1];
        var columnPotential = new double[n + 1];
        var rowOfColumn = new int[n + 1];      // the row matched to each column, 0 = none
        var previous = new int[n + 1];         // the alternating path, column to column
        for (var row = 1; row <= n; row++)
        {
            rowOfColumn[0] = row;
            var column = 0;
            var slack = new double[n + 1];
            var used = new bool[n + 1];
            Array.Fill(slack, double.PositiveInfinity);
            do
            {
                used[column] = true;
                var current = rowOfColumn[column];
                var delta = double.PositiveInfinity;
                var next = 0;
                for (var j = 1; j <= n; j++)
                {
                    if (used[j]) continue;
                    var reduced = cost[current - 1, j - 1] - rowPotential[current] - columnPotential[j];
                    if (reduced < slack[j]) { slack[j] = reduced; previous[j] = column; }
                    if (slack[j] < delta) { delta = slack[j]; next = j; }
                }
                for (var j = 0; j <= n; j++)
                {
                    if (used[j]) { rowPotential[rowOfColumn[j]] += delta; columnPotential[j] -= delta; }
                    else slack[j] -= delta;
                }
                column = next;
            } while (rowOfColumn[column] != 0);
            do   // flip the augmenting path
            {
                var before = previous[column];
                rowOfColumn[column] = rowOfColumn[before];
                column = before;
            } while (column != 0);
        }
        var assignment = new int[n];
        for (var j = 1; j <= n; j++) assignment[rowOfColumn[j] - 1] = j - 1;
        return assignment;
    }

    /// <summary>For each row, the column it is matched to, maximising the sum of the matched values (counts).</summary>
    /// <param name="value">A square matrix of finite values.</param>
    public static int[] Maximise(double[,] value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var negated = (double[,])value.Clone();
        for (var i = 0; i < negated.GetLength(0); i++)
            for (var j = 0; j < negated.GetLength(1); j++)
                negated[i, j] = -negated[i, j];
        return Minimise(negated);
    }
}
