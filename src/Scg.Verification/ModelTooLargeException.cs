using System;
using System.Collections.Immutable;

namespace Scg.Verification;

/// <summary>
/// The model cannot be integrated exactly within <see cref="ExactOptions"/>' limits, or has a site <see cref="Exact"/>
/// cannot integrate. The message names the sites at fault and the numbers; <see cref="Sites"/> lists the sites.
/// </summary>
public sealed class ModelTooLargeException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is too large or unsupported, and what to do.</param>
    /// <param name="sites">The sites that make it so.</param>
    public ModelTooLargeException(string message, ImmutableArray<string> sites) : base(message) => Sites = sites;

    /// <summary>Creates the exception without sites.</summary>
    public ModelTooLargeException() : this("The model is too large to integrate exactly.", ImmutableArray<string>.Empty)
    {
    }

    /// <summary>Creates the exception with a message and no sites.</summary>
    /// <param name="message">The message.</param>
    public ModelTooLargeException(string message) : this(message, ImmutableArray<string>.Empty)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="inner">The cause.</param>
    public ModelTooLargeException(string message, Exception inner) : base(message, inner) => Sites = ImmutableArray<string>.Empty;

    /// <summary>The sites that make the model too large or unsupported.</summary>
    public ImmutableArray<string> Sites { get; }
}
