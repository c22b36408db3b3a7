using System;
using System.Collections.Generic;
using System.Linq;

namespace Scg;

/// <summary>Hints for a name that was not found, when <see cref="Model.Scope{T}"/> may have prefixed it.</summary>
internal static class ScopedNames
{
    /// <summary>
    /// A sentence naming the <paramref name="names"/> that end with the same last segment as <paramref name="name"/>
    /// (<c>z</c> and <c>left/z</c>, <c>left/z</c> and <c>z</c> or <c>right/z</c>), or an empty string when there is none.
    /// </summary>
    public static string Hint(string name, IEnumerable<string> names)
    {
        var last = LastSegment(name);
        var similar = names.Where(n => n != name && LastSegment(n) == last).Distinct().Take(6).Select(n => $"'{n}'").ToList();
        return similar.Count == 0
            ? string.Empty
            : $" Similar names: {string.Join(", ", similar)} (Model.Scope puts its prefix in front of names; give full names).";
    }

    private static string LastSegment(string name)
    {
        var slash = name.LastIndexOf('/');
        return slash < 0 ? name : name[(slash + 1)..];
    }
}
