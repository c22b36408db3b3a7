using System;
using Scg.Interpretation;

namespace Scg.Objectives;

/// <summary>
/// Variational inference with a guide: the guide q(z | x) runs first and draws the latents with their estimators;
/// the model p(x, z) then runs at the guide's values. Both are recorded in one trace, so everything the model
/// records is downstream of the guide's draws and the credit rules apply unchanged; the trace's total cost is the
/// negative ELBO, Σ log q(z) − Σ log p(z) − Σ log p(x | z), and <c>Surrogate.Build</c> of the trace gives its
/// gradient (score-function guide sites included: their cost-to-go holds their own log q and the model's terms).
/// </summary>
/// <remarks>
/// In the trace, guide site <c>z</c> is a sample site followed by a cost <c>z@q</c> = log q(z), and the model's site
/// <c>z</c> is an observation <c>z@p</c> of the guide's value (its −log p(z) a cost). Every latent of the model must
/// be sampled by the guide under the same name, and every guide site must be a latent of the model; either
/// mistake is an error naming the site. With <see cref="RunOptions.Particles"/> = K the ELBO is averaged over K
/// particles.
/// </remarks>
public static class Guided
{
    /// <summary>The guide, then the model at the guide's latent values; returns both values.</summary>
    /// <typeparam name="TGuide">The guide's value type.</typeparam>
    /// <typeparam name="TModel">The model's value type.</typeparam>
    /// <param name="guide">q(z | x): samples every latent of the model, by the model's site names.</param>
    /// <param name="model">p(x, z): samples the latents (replaced by the guide's values) and observes the data.</param>
    /// <param name="analyticKl">Where the guide's and the model's distributions of a latent have a closed-form
    /// KL divergence (<see cref="Distributions.KullbackLeibler.Between"/>: Normal–Normal), record it as one cost
    /// <c>z@kl</c> at the model's site instead of the sampled log q(z) − log p(z): the same expectation, less
    /// variance. Other latents keep the sampled terms.</param>
    /// <exception cref="ArgumentException">When run: the model samples a latent the guide does not, or the guide
    /// samples a site the model does not; guided runs nest.</exception>
    /// <param name="stickTheLanding">"Sticking the landing" (Roeder et al. 2017): the guide's log q(z) of a pathwise site
    /// is differentiated only through z, not through q's parameters directly (whose expected gradient is zero), so the
    /// gradient stays unbiased and its variance vanishes as q reaches the posterior. Normal guides only; ignored for a
    /// latent with <paramref name="analyticKl"/>'s closed form.</param>
    public static Model<(TGuide Guide, TModel Model)> Pair<TGuide, TModel>(Model<TGuide> guide, Model<TModel> model, bool analyticKl = false, bool stickTheLanding = false)
    {
        ArgumentNullException.ThrowIfNull(guide);
        ArgumentNullException.ThrowIfNull(model);
        var begin = new Model<bool>(ctx => ctx.BeginGuide(analyticKl, stickTheLanding));
        return begin.Bind(_ => guide).Bind(g =>
            new Model<bool>(ctx => ctx.EndGuide()).Bind(_ => model).Bind(m =>
                new Model<(TGuide, TModel)>(ctx =>
                {
                    ctx.EndModel();
                    return (g, m);
                })));
    }
}
