namespace Scg.Linq;

/// <summary>Why <see cref="Training.Fit{T}"/> stopped.</summary>
public enum FitStop
{
    /// <summary>It took <see cref="FitOptions.Steps"/> steps.</summary>
    Steps,

    /// <summary>The wall-clock <see cref="FitOptions.Budget"/> was spent.</summary>
    Budget,

    /// <summary><see cref="FitOptions.Cancellation"/> was signalled.</summary>
    Cancelled,
}
