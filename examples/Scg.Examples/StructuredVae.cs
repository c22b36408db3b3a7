using System;
using System.Collections.Generic;
using System.Linq;
using Scg.Distributions;
using Scg.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Scg.Examples;

/// <summary>
/// The lecture's structured VAE on 2-D points from three clusters, written with LINQ: per data point a discrete
/// cluster y ~ q(y | x) (score function), a continuous code z ~ q(z | x, y) (pathwise), and three costs:
/// l_y = log q(y|x) − log p(y), l_z = log q(z|x,y) − log p(z), l_x = −log p(x | y, z). Their sum is the
/// negative ELBO; Scg credits y's score term with the costs downstream of y, element by element in the plate.
/// </summary>
internal sealed class StructuredVae
{
    private const int Clusters = 3;
    private readonly nn.Module<Tensor, Tensor> encoderY = nn.Linear(2, Clusters);
    private readonly nn.Module<Tensor, Tensor> encoderZ = nn.Linear(2 + Clusters, 2);
    private readonly nn.Module<Tensor, Tensor> decoder = nn.Linear(1 + Clusters, 2);
    private readonly Tensor logPriorY = torch.full(Clusters, -Math.Log(Clusters));

    public Model<Tensor> NegativeElbo(Tensor x) =>
        Model.Plate("data", x.shape[0],
            from enc in Model.Module("encoderY", encoderY)
            from encZ in Model.Module("encoderZ", encoderZ)
            from dec in Model.Module("decoder", decoder)
            let qy = Categorical.FromLogits(enc.call(x))
            from y in Model.Sample("y", qy)
            from ly in Model.Cost("l_y", qy.LogProb(y) - logPriorY[y])
            let yHot = nn.functional.one_hot(y, Clusters).to_type(ScalarType.Float32)
            let stats = encZ.call(torch.cat([x.expand(yHot.shape[..^1].Append(2L).ToArray()), yHot], -1))
            let qz = new Normal(stats[TensorIndex.Ellipsis, 0], stats[TensorIndex.Ellipsis, 1].exp())
            from z in Model.Sample("z", qz)
            from lz in Model.Cost("l_z", qz.LogProb(z) - new Normal(torch.zeros_like(z), torch.ones_like(z)).LogProb(z))
            let mean = dec.call(torch.cat([z.unsqueeze(-1), yHot], -1))
            from lx in Model.Cost("l_x", -new Normal(mean, torch.full_like(mean, 0.3)).ToEvent(1).LogProb(x))
            select ly + lz + lx);

    /// <summary>The most probable cluster of each point under q(y | x).</summary>
    public Tensor Assign(Tensor x) => encoderY.call(x).argmax(-1);

    public IEnumerable<TorchSharp.Modules.Parameter> Parameters() =>
        encoderY.parameters().Concat(encoderZ.parameters()).Concat(decoder.parameters());
}
