namespace Scg.Tracing;

/// <summary>
/// What a cost of a guided run (<see cref="Objectives.Guided.Pair"/>) stands for, so that objectives which treat the
/// guide's and the model's terms differently (reweighted wake-sleep, DReG) can tell them apart without reading names.
/// </summary>
internal enum GuideTerm
{
    /// <summary>An ordinary cost (the model's, or any cost outside a guided run).</summary>
    None,

    /// <summary>The guide's log q(z) at its site, differentiable through z and through q's parameters.</summary>
    LogQ,

    /// <summary>The guide's log q(z) with q's parameters detached (<c>stickTheLanding</c>): differentiable only through z.</summary>
    LogQDetachedParameters,

    /// <summary>The closed-form KL(q ‖ p) at a model's latent (<c>analyticKl</c>): the guide's and the model's terms in one.</summary>
    AnalyticKl,
}
