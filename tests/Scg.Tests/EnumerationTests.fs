/// Exact enumeration: values and gradients equal the exact expectation to float tolerance (not statistically) on
/// closed forms, dependent enumerated sites and plates; enumerated and sampled sites mix (z-tests); the errors
/// that say why a site cannot be enumerated.
module Scg.Tests.EnumerationTests

open Expecto
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Estimators
open Scg.Verification.FlatGraph
open Scg.Verification.FlatOracle
open Scg.Tests.RandomScgTests
open Scg.FSharp

let private f64s (xs: float[]) = torch.tensor(xs, dtype = torch.ScalarType.Float64)
let private leavesOf (xs: float list) = [ for x in xs -> torch.tensor(x, dtype = torch.ScalarType.Float64, requires_grad = true) ]
let private throwsMentioning = ErrorTests.throwsMentioning
let private offsets () = f64s [| -0.5; 0.0; 0.7 |]

/// z1 ~ Bern(σ(θ1)); c1 = 2 z1 θ2; in plate p[3]: z2 ~ Bern(σ(θ2 + z1 + o_i)), c2 = (z1 + z2 − 1)² + θ1 z2.
let private chain (leaves: Tensor list) (e1: SiteEstimator) (e2: SiteEstimator) =
    let t1, t2 = leaves.[0], leaves.[1]
    model {
        let! z1 = Model.Sample("z1", Bernoulli.FromLogits(t1), e1)
        let! _ = Model.Cost("c1", z1 * t2 * 2.0)
        let! _ = Model.Plate("p", 3L, model {
            let! z2 = Model.Sample("z2", Bernoulli.FromLogits(t2 + z1 + offsets ()), e2)
            let! _ = Model.Cost("c2", (z1 + z2 - 1.0).square() + t1 * z2)
            return () })
        return () }

let private chainExact (t1: Tensor) (t2: Tensor) =
    let mutable j = torch.zeros([||], dtype = torch.ScalarType.Float64)
    for z1 in [ 0.0; 1.0 ] do
        let p1 = if z1 = 1.0 then torch.sigmoid(t1) else 1.0 - torch.sigmoid(t1)
        let q = torch.sigmoid(t2 + z1 + offsets ())
        let inner = q * ((z1 * z1) + t1) + (1.0 - q) * ((z1 - 1.0) * (z1 - 1.0))
        j <- j + p1 * (t2 * z1 * 2.0 + inner.sum())
    j

let private close (a: float[]) (b: float[]) = Array.forall2 (fun (x: float) y -> abs (x - y) <= 1e-9 * (1.0 + abs y)) a b

[<Tests>]
let tests =
    testList "enumeration" [
        test "a chain with a plate, both sites enumerated: cost and gradient are exact (with and without particles)" {
            let leaves = leavesOf [ 0.3; -0.4 ]
            let exact = chainExact leaves.[0] leaves.[1]
            let gstar = Stats.gradOf exact leaves
            for k in [ 0; 1; 3 ] do
                let run = Interpreter.Sample(chain leaves SiteEstimator.Enumerate SiteEstimator.Enumerate, RunOptions(Seed = 1UL, Particles = k))
                Expect.isTrue run.Trace.HasEnumeration "enumerated"
                Expect.equal (run.Trace.Sample("z2").Value.shape.[0]) 2L "z2's support along its own dimension"
                let s = Surrogate.Build(run.Trace)
                Expect.floatClose Accuracy.veryHigh (s.Cost.item<float>()) (exact.item<float>()) (sprintf "K = %d: the reported cost is the exact expectation" k)
                let g = Stats.gradOf s.Surrogate leaves
                Expect.isTrue (close g gstar) (sprintf "K = %d: gradient %s vs exact %s" k (Stats.fmt g) (Stats.fmt gstar))
        }

        test "Categorical and OneHotCategorical sites enumerate their support; a dependent second site takes its own dimension" {
            let theta = leavesOf [ 0.2; -0.1; 0.4 ]
            let logits = torch.stack(Array.ofList theta)
            let m = model {
                let! y = Model.Sample("y", Categorical.FromLogits(logits), SiteEstimator.Enumerate)
                let! h = Model.Sample("h", OneHotCategorical.FromLogits(logits * 0.5 + y.to_type(torch.ScalarType.Float64).unsqueeze(-1)), SiteEstimator.Enumerate)
                let! _ = Model.Cost("c", y.to_type(torch.ScalarType.Float64) * (h * f64s [| 1.0; 2.0; 3.0 |]).sum(-1))
                return () }
            let run = Interpreter.Sample(m, RunOptions(Seed = 2UL))
            let s = Surrogate.Build(run.Trace)
            // exact: Σ_y p(y) y Σ_k q(k | y) (k + 1)
            let mutable j = torch.zeros([||], dtype = torch.ScalarType.Float64)
            let py = torch.softmax(logits, 0)
            for y in 0 .. 2 do
                let q = torch.softmax(logits * 0.5 + float y, 0)
                j <- j + py.[y] * float y * (q * f64s [| 1.0; 2.0; 3.0 |]).sum()
            Expect.floatClose Accuracy.veryHigh (s.Cost.item<float>()) (j.item<float>()) "cost"
            Expect.isTrue (close (Stats.gradOf s.Surrogate theta) (Stats.gradOf j theta)) "gradient"
        }

        test "enumerated and score-function sites mix: mean gradients match the exact one (z-test)" {
            let leaves = leavesOf [ 0.3; -0.4 ]
            let gstar = Stats.gradOf (chainExact leaves.[0] leaves.[1]) leaves
            for (name, e1, e2) in [ "z1 enumerated, z2 sampled", SiteEstimator.Enumerate, SiteEstimator.ScoreFunction
                                    "z1 sampled, z2 enumerated", SiteEstimator.ScoreFunction, SiteEstimator.Enumerate
                                    "z1 sampled with a baseline, z2 enumerated", SiteEstimator.ScoreFunction.WithBaseline(Baseline.LeaveOneOut), SiteEstimator.Enumerate ] do
                use gen = new torch.Generator(5UL, torch.CPU)
                let m = chain leaves e1 e2
                let samples = Stats.gradients 40 leaves (fun _ -> Surrogate.Build(Interpreter.Sample(m, RunOptions(Generator = gen, Particles = 400)).Trace).Surrogate)
                let z = zOf samples gstar
                Expect.isLessThan z Stats.zBound (sprintf "%s: max |z| = %.2f, mean %s vs %s" name z (Stats.fmt (Stats.estimate samples).Mean) (Stats.fmt gstar))
        }

        test "DiCE with enumerated sites: the Hessian is exact when all are enumerated, unbiased when mixed with sampled ones" {
            let leaves = leavesOf [ 0.3; -0.4 ]
            let hess (s: Tensor) = Derivatives.GradientAndHessian(s, Array.ofList leaves).Hessian.flatten().data<float>().ToArray()
            let hstar = hess (chainExact leaves.[0] leaves.[1])
            let all = Interpreter.Sample(chain leaves SiteEstimator.Enumerate SiteEstimator.Enumerate, RunOptions(Seed = 1UL))
            let h = hess (Dice.Build(all.Trace).Surrogate)
            Expect.isTrue (close h hstar) (sprintf "all enumerated: %s vs exact %s" (Stats.fmt h) (Stats.fmt hstar))
            for (name, e1, e2) in [ "z1 enumerated, z2 sampled", SiteEstimator.Enumerate, SiteEstimator.ScoreFunction.WithBaseline(Baseline.LeaveOneOut)
                                    "z1 sampled, z2 enumerated", SiteEstimator.ScoreFunction, SiteEstimator.Enumerate ] do
                use gen = new torch.Generator(7UL, torch.CPU)
                let m = chain leaves e1 e2
                let samples = Array.init 30 (fun _ ->
                    use scope = torch.NewDisposeScope()
                    hess (Dice.Build(Interpreter.Sample(m, RunOptions(Generator = gen, Particles = 400)).Trace).Surrogate))
                let z = zOf samples hstar
                Expect.isLessThan z Stats.zBound (sprintf "%s: max |z| = %.2f, mean %s vs %s" name z (Stats.fmt (Stats.estimate samples).Mean) (Stats.fmt hstar))
        }

        test "the README's enumeration example is unbiased, and less noisy than the score function" {
            // J = 2 + 3σ(θ) (see the DiCE README test): J' = 3σ(1 − σ)
            let s = 1.0 / (1.0 + exp -0.5)
            let exact = [| 3.0 * s * (1.0 - s) |]
            let enumerated = [| for seed in 1UL .. 200UL -> [| Scg.Tests.CSharp.ReadmeExample.Enumerated seed |] |]
            let z = zOf enumerated exact
            Expect.isLessThan z Stats.zBound (sprintf "max |z| = %.2f, mean %s vs %s" z (Stats.fmt (Stats.estimate enumerated).Mean) (Stats.fmt exact))
            let sampled = [| for seed in 1UL .. 200UL -> [| Scg.Tests.CSharp.ReadmeExample.Gradient(seed, 1) |] |]
            let var (xs: float[][]) = let e = Stats.estimate xs in e.StdErr.[0] ** 2.0
            Expect.isLessThan (var enumerated) (var sampled) "enumerating y removes its score-function noise"
        }

        test "a sampled site that does not read an enumerated one still gets a baseline of the right shape, unbiased" {
            // e ~ Bern(σ(θ1)) enumerated; s ~ Bern(σ(θ2)) sampled, independent of e; c = (e + s − 1)² + θ1 s:
            // E[c] = pe ps + (1 − pe)(1 − ps) + θ1 ps
            let leaves = leavesOf [ 0.4; -0.2 ]
            let t1, t2 = leaves.[0], leaves.[1]
            let m = model {
                let! e = Model.Sample("e", Bernoulli.FromLogits(t1), SiteEstimator.Enumerate)
                let! s = Model.Sample("s", Bernoulli.FromLogits(t2), SiteEstimator.ScoreFunction.WithBaseline(Baseline.LeaveOneOut))
                let! _ = Model.Cost("c", (e + s - 1.0).square() + t1 * s)
                return () }
            let pe, ps = torch.sigmoid(t1), torch.sigmoid(t2)
            let exact = pe * ps + (1.0 - pe) * (1.0 - ps) + t1 * ps
            let gstar = Stats.gradOf exact leaves
            use gen = new torch.Generator(9UL, torch.CPU)
            let samples = Stats.gradients 40 leaves (fun _ -> Surrogate.Build(Interpreter.Sample(m, RunOptions(Generator = gen, Particles = 300)).Trace).Surrogate)
            let z = zOf samples gstar
            Expect.isLessThan z Stats.zBound (sprintf "max |z| = %.2f, mean %s vs %s" z (Stats.fmt (Stats.estimate samples).Mean) (Stats.fmt gstar))
        }

        test "what cannot be enumerated is refused with the reason" {
            let t = torch.tensor(0.3, dtype = torch.ScalarType.Float64, requires_grad = true)
            let run (m: Model<unit>) = Surrogate.Build(Interpreter.Sample(m, RunOptions(Seed = 1UL)).Trace) |> ignore
            throwsMentioning [ "'z'"; "Normal"; "finite support" ] (fun () -> run (model { let! _ = Model.Sample("z", Normal(t, t.exp()), SiteEstimator.Enumerate) in return () }))
            throwsMentioning [ "'b'"; "plate 'p'"; "'total'"; "factorise" ] (fun () ->
                run (model {
                    let! bs = Model.Plate("p", 3L, Model.Sample("b", Bernoulli.FromLogits(t), SiteEstimator.Enumerate))
                    let! _ = Model.Cost("total", bs.sum(-1L, keepdim = true))
                    return () }))
            // the same sum without keepdim: the enumeration axis slides into the plate's place; the message says so
            throwsMentioning [ "'total'"; "Enumerated site(s) 'b'"; "keepdim: true" ] (fun () ->
                run (model {
                    let! bs = Model.Plate("p", 3L, Model.Sample("b", Bernoulli.FromLogits(t), SiteEstimator.Enumerate))
                    let! _ = Model.Cost("total", bs.sum(-1L))
                    return () }))
            throwsMentioning [ "'b'"; "no plate accounts" ] (fun () ->
                run (model { let! _ = Model.Sample("b", Bernoulli.FromLogits(t.expand(4L)), SiteEstimator.Enumerate) in return () }))
            throwsMentioning [ "'b20'"; "limit" ] (fun () ->
                let many = [ for i in 0 .. 20 -> Model.Sample(sprintf "b%d" i, Bernoulli.FromLogits(t), SiteEstimator.Enumerate) ]
                run (Model.Map(Scg.Linq.ModelQuery.Sequence(many), fun _ -> ())))
            throwsMentioning [ "enumerated"; "baseline" ] (fun () -> SiteEstimator.Enumerate.WithBaseline(Baseline.Constant 0.0) |> ignore)
            // a MaxPlateNesting too low for the plates, without particles: the plate would take the enumeration dimension
            throwsMentioning [ "Plate 'p'"; "MaxPlateNesting = 0"; "at least 1" ] (fun () ->
                let m = Model.Plate("p", 3L, model { let! _ = Model.Sample("b", Bernoulli.FromLogits(t), SiteEstimator.Enumerate) in return () })
                Interpreter.Sample(m, RunOptions(Seed = 1UL, MaxPlateNesting = 0)) |> ignore)
            // replaying an enumerated run
            let enumerated = model { let! b = Model.Sample("b", Bernoulli.FromLogits(t), SiteEstimator.Enumerate) in let! _ = Model.Cost("c", b) in return () }
            let tr = Interpreter.Sample(enumerated, RunOptions(Seed = 1UL)).Trace
            throwsMentioning [ "'b'"; "enumerated"; "not supported" ] (fun () -> Interpreter.Replay(enumerated, tr) |> ignore)
            // model code that does not broadcast over the enumeration dimension: the native error comes with the site and advice
            throwsMentioning [ "enumerating 'b'"; "broadcast"; "dim -1" ] (fun () ->
                run (model {
                    let! b = Model.Sample("b", Bernoulli.FromLogits(t), SiteEstimator.Enumerate)
                    let! _ = Model.Cost("c", b.expand(3L).sum())
                    return () }))
        }
    
        test "inside Model.Zip: a sibling branch outside the enumerated site's plate is not downstream of it; the cost is exact in either order" {
            // a ~ Bern(σ(θ1 + o_i)) enumerated in plate p[3]; g ~ Bern(σ(θ2)) enumerated, outside p; then in p: c_i = (a_i + g − θ1)²
            let leaves = leavesOf [ 0.3; -0.4 ]
            let t1, t2 = leaves.[0], leaves.[1]
            let a = Model.Plate("p", 3L, Model.Sample("a", Bernoulli.FromLogits(t1 + offsets ()), SiteEstimator.Enumerate))
            let g = Model.Sample("g", Bernoulli.FromLogits(t2), SiteEstimator.Enumerate)
            let after (av: Tensor) (gv: Tensor) = Model.Plate("p", 3L, Model.Cost("c", (av + gv - t1).square()))
            let mutable exact = torch.zeros([||], dtype = torch.ScalarType.Float64)
            for gv in [ 0.0; 1.0 ] do
                let pg = if gv = 1.0 then torch.sigmoid(t2) else 1.0 - torch.sigmoid(t2)
                let q = torch.sigmoid(t1 + offsets ())
                exact <- exact + pg * (q * (1.0 + gv - t1).square() + (1.0 - q) * (gv - t1).square()).sum()
            let gstar = Stats.gradOf exact leaves
            for first in [ true; false ] do
                let m =
                    if first then Model.Bind(Model.Zip(a, g), fun struct (av, gv) -> after av gv)
                    else Model.Bind(Model.Zip(g, a), fun struct (gv, av) -> after av gv)
                let s = Surrogate.Build(Interpreter.Sample(m, RunOptions(Seed = 1UL, MaxPlateNesting = 1)).Trace)
                Expect.floatClose Accuracy.veryHigh (s.Cost.item<float>()) (exact.item<float>()) (sprintf "cost (a first: %b)" first)
                let gr = Stats.gradOf s.Surrogate leaves
                for i in 0 .. 1 do Expect.floatClose Accuracy.veryHigh gr.[i] gstar.[i] (sprintf "gradient %d (a first: %b)" i first)
        }

        test "a learned baseline that reads an enumerated site of a sibling branch is refused, naming both" {
            let t = leavesOf [ 0.2 ]
            let learned = SiteEstimator.ScoreFunction.WithBaseline(Baseline.Learned("bl", torch.nn.Linear(1L, 1L, dtype = torch.ScalarType.Float64), [| "a" |]))
            let m = model {
                let! a = Model.Sample("a", Bernoulli.FromLogits(t.[0]), SiteEstimator.Enumerate)
                and! s = Model.Sample("s", Bernoulli.FromLogits(t.[0]), learned)
                let! _ = Model.Cost("c", a + s)
                return () }
            let tr = Interpreter.Sample(m, RunOptions(Seed = 1UL, Particles = 4)).Trace
            throwsMentioning [ "'bl'"; "'s'"; "'a'"; "another branch" ] (fun () -> Surrogate.Build(tr) |> ignore)
        }
    ]
