using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>
/// A critic for a score-function site: an estimate of E[cost-to-go | the site's value, its non-descendants] that
/// replaces the sampled cost-to-go in the site's score term. <b>Biased</b> unless the estimate is exact: use it
/// for lower variance when some bias is acceptable (actor-critic), never when an unbiased gradient is required.
/// It may read the site's own value. The result must broadcast to the site's cost-to-go (shaped by the site's
/// plates) without enlarging it; it is detached.
/// </summary>
/// <param name="site">The score-function site.</param>
/// <param name="trace">The run's trace (for upstream values).</param>
public delegate Tensor Critic(SampleNode site, Trace trace);
