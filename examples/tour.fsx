// A tour of Scg as an F# script: the lecture's model with the computation-expression builder, its trace, and
// pathwise against score-function gradients on one model. It loads Scg from NuGet packages; in this repository
// they come from the local folder that .ci/pack fills, named by an environment variable (`#i "nuget: …"` takes
// absolute paths only). From the repository root:
//   .ci/pack && RestoreAdditionalProjectSources=$PWD/artifacts/packages dotnet fsi examples/tour.fsx
#r "nuget: Scg.Functional, 0.1.0"
#r "nuget: Scg.CSharpFacade, 0.1.0"
#r "nuget: Scg.FSharp, 0.1.0"

open System
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Estimators
open Scg.Interpretation
open Scg.Tracing
open Scg.FSharp     // model { }

// TorchSharp may come first: the package's F# Interactive script (content/Scg.Functional.fsx) has already made
// TorchSharp's native library loadable.
let probe = torch.tensor([| 1.0; 2.0 |], requires_grad = true)
(probe * probe).sum().backward()
printfn "d/dx Σ x² at (1, 2) = %A" (probe.grad.data<float>().ToArray())

let logits = torch.tensor([| 0.2f; -0.4f; 0.1f |], requires_grad = true)
let mu = torch.tensor([| -1.0f; 0.0f; 1.5f |], requires_grad = true)
let logSigma = torch.tensor([| -0.5f; 0.0f; 0.3f |], requires_grad = true)
let target = torch.tensor([| 0.5f; -0.5f; 1.0f |])
let bias = torch.tensor([| 0.0f; 0.3f; -0.2f |])

// y ~ Categorical(softmax(logits)); z ~ Normal(μ[y], exp(log σ[y])); cost (z − target[y])² + bias[y].
let lecture () =
    model {
        let! y = Model.Sample("y", Categorical.FromLogits(logits))
        let! z = Model.Sample("z", Normal(mu.[y], logSigma.[y].exp()))
        do! Model.cost "loss" ((z - target.[y]).square() + bias.[y])
        return z }

let run = Interpreter.Sample(lecture (), RunOptions(Seed = 1UL))
printfn "%s" (TraceFormat.ToText run.Trace)
printfn "%s" (TraceFormat.ToMermaid run.Trace)

let particles = Interpreter.Sample(lecture (), RunOptions(Seed = 2UL, Particles = 256))
let objective = Surrogate.Build(particles.Trace)
objective.Surrogate.backward()
printfn "mean cost %.3f; ∂/∂μ = %A" (objective.Cost.item<float32>()) (mu.grad.data<float32>().ToArray())

// Pathwise against score function: z ~ Normal(θ, 1), cost (z − 1)², exact gradient 2(θ − 1) = −1 at θ = 0.5.
let theta = torch.tensor(0.5, requires_grad = true)
let gauss () =
    model {
        let! z = Model.Sample("z", Normal(theta, torch.tensor(1.0)))
        do! Model.cost "c" ((z - 1.0).square())
        return z }

let n = 2000
for name, estimator in [ "pathwise", SiteEstimator.Pathwise; "score function", SiteEstimator.ScoreFunction ] do
    use generator = new torch.Generator(7UL, torch.CPU)
    let options = RunOptions(Generator = generator, Estimators = EstimatorOverrides.None.For("z", estimator))
    let values =
        Array.init n (fun _ ->
            use _scope = torch.NewDisposeScope()
            let surrogate = Surrogate.Build(Interpreter.Sample(gauss (), options).Trace).Surrogate
            torch.autograd.grad([| surrogate |], [| theta |]).[0].item<float>())
    let mean = Array.average values
    let variance = (values |> Array.sumBy (fun v -> (v - mean) ** 2.0)) / float (n - 1)
    printfn "%-15s mean %7.3f ± %.3f, variance %7.3f (exact gradient -1)" name mean (sqrt (variance / float n)) variance
