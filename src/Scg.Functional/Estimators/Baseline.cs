using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Estimators;

/// <summary>
/// A baseline for a score-function site: a value subtracted from the site's cost-to-go in its score term.
/// It must depend only on non-descendants of the site (never on the site's own value or what follows from it)
/// for the estimate to stay unbiased; the cost-to-go is passed so that leave-one-out baselines can use the
/// other particles' values. Return null for no baseline.
/// </summary>
/// <param name="site">The score-function site.</param>
/// <param name="costToGo">The site's detached cost-to-go, shaped by its plates.</param>
public delegate Tensor? Baseline(SampleNode site, Tensor costToGo);
