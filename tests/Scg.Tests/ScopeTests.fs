/// Model.Scope: name prefixes for sites, observations, costs, parameters and modules, so one sub-model can be used
/// twice; plates are not prefixed; a scope left by an exception is closed.
module Scg.Tests.ScopeTests

open System
open Expecto
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Estimators
open Scg.Objectives
open Scg.FSharp

let private f64 = torch.ScalarType.Float64
let private t (x: float) = torch.tensor(x, dtype = f64)

/// A sub-model with a parameter, a sample site, an observation and a cost.
let private coin =
    model {
        let! w = Model.Param("w", fun () -> t 0.3)
        let! z = Model.Sample("z", Bernoulli.FromLogits(w))
        let! _ = Model.Observe("x", Normal(z, t 1.0), t 0.5)
        let! _ = Model.Cost("c", z * 2.0)
        return z }

let private names (r: RunResult<'T>) = r.Trace.Nodes |> Seq.map (fun n -> n.Name) |> List.ofSeq

[<Tests>]
let tests =
    testList "Model.Scope" [
        test "one sub-model used twice: its sites and parameters get each scope's prefix; nested scopes join" {
            let twice = model {
                let! a = Model.Scope("left", coin)
                let! b = Model.Scope("right", Model.scope "inner" coin)   // Scg.FSharp's curried form
                return a + b }
            let store = ParamStore()
            let r = Interpreter.Sample(twice, RunOptions(Seed = 1UL, Params = store))
            Expect.containsAll (names r) [ "left/z"; "left/x"; "left/c"; "right/inner/z"; "right/inner/x"; "right/inner/c" ] "prefixed sites"
            Expect.containsAll store.Named.Keys [ "left/w"; "right/inner/w" ] "a parameter per scope"
            Expect.equal (Seq.length (store.Parameters())) 2 "two parameters"
            // the same sub-model twice without scopes is refused, and the message points at Model.Scope
            let e = Expect.throwsC (fun () -> Interpreter.Sample(model { let! _ = coin in return! coin }, RunOptions(Seed = 1UL)) |> ignore) id
            Expect.stringContains e.Message "Model.Scope" "the duplicate-name error suggests a scope"
        }

        test "modules are prefixed; one module object shared by two scopes gives its parameters once" {
            let shared = torch.nn.Linear(2L, 1L)
            let useNet = model {
                let! net = Model.Module("net", shared)
                let! own = Model.Module("own", fun () -> torch.nn.Linear(2L, 1L))
                return net, own }
            let store = ParamStore()
            let r = Interpreter.Sample(Model.Zip(Model.Scope("a", useNet), Model.Scope("b", useNet)), RunOptions(Params = store))
            let struct ((netA, ownA), (netB, ownB)) = r.Value
            Expect.containsAll store.Modules.Keys [ "a/net"; "b/net"; "a/own"; "b/own" ] "prefixed modules"
            Expect.isTrue (obj.ReferenceEquals(netA, netB)) "the shared object in both scopes"
            Expect.isFalse (obj.ReferenceEquals(ownA, ownB)) "a factory builds one module per scope"
            Expect.equal (Seq.length (store.Parameters())) 6 "weight and bias of the shared module once, of each own module"
        }

        test "plates are not prefixed: a plate opened in two scopes is one plate" {
            let inPlate = Model.Plate("data", 3L, Model.Sample("z", Normal(torch.zeros(3L, dtype = f64), torch.ones(3L, dtype = f64))))
            let r = Interpreter.Sample(Model.Zip(Model.Scope("p", inPlate), Model.Scope("q", inPlate)), RunOptions(Seed = 2UL))
            Expect.equal (r.Trace.Plates |> Seq.map (fun p -> p.Name) |> List.ofSeq) [ "data" ] "one plate"
            Expect.sequenceEqual (r.Trace.Sample("q/z").Value.shape) [| 3L |] "the site lies in it"
        }

        test "a scope left by an exception is closed: names after a caught failure are not prefixed" {
            let failing = Model.Scope("s", model {
                let! _ = Model.Sample("z", Normal(t 0.0, t 1.0))
                return failwith "boom" })
            let m = model {
                let! _ = Model.TryCatch(failing, fun _ -> Model.Return(t 0.0))
                let! _ = Model.Sample("after", Normal(t 0.0, t 1.0))
                return () }
            let r = Interpreter.Sample(m, RunOptions(Seed = 3UL))
            Expect.contains (names r) "after" "not s/after"
        }

        test "a guide and a model in the same scopes pair up; estimator overrides and replays take full names" {
            let guide = Model.Scope("enc", Model.Sample("z", Normal(t 0.2, t 0.5)))
            let generative = Model.Scope("enc", model {
                let! z = Model.Sample("z", Normal.Standard([||], f64))
                let! _ = Model.Observe("x", Normal(z, t 1.0), t 0.7)
                return () })
            let r = Interpreter.Sample(Guided.Pair(guide, generative), RunOptions(Seed = 4UL))
            Expect.containsAll (names r) [ "enc/z"; "enc/z@q"; "enc/z@p"; "enc/x" ] "the pair's names"
            let misnamed = Guided.Pair(Model.Scope("other", Model.Sample("z", Normal(t 0.2, t 0.5))), generative)
            let e = Expect.throwsC (fun () -> Interpreter.Sample(misnamed, RunOptions(Seed = 4UL)) |> ignore) id
            Expect.stringContains e.Message "'enc/z'" "names the full name of the unmatched latent"
            let replayed = Interpreter.Replay(Model.Scope("left", coin), readOnlyDict [ "left/z", t 1.0 ])
            Expect.equal (replayed.Trace.Sample("left/z").Value.item<float>()) 1.0 "replay by full name"
            let over = EstimatorOverrides.None.For("left/z", SiteEstimator.ScoreFunction.WithBaseline(Baseline.Constant(0.5)))
            let o = Interpreter.Sample(Model.Scope("left", coin), RunOptions(Seed = 5UL, Estimators = over))
            Expect.stringContains (string (o.Trace.Sample("left/z").Estimator)) "constant" "the override reached the scoped site"
        }

        test "C#: Model.Scope composes in a LINQ query" {
            let store = ParamStore()
            let r = Interpreter.Sample(Scg.Tests.CSharp.ScopedModels.TwoCoins(), RunOptions(Seed = 6UL, Params = store))
            Expect.containsAll (names r) [ "left/z"; "right/z" ] "both coins"
            Expect.containsAll store.Named.Keys [ "left/w"; "right/w" ] "a parameter each"
        }

        test "a learned baseline in a scoped sub-model reads its own scope's inputs; a missing input names the names tried" {
            let seen = Collections.Generic.List<torch.Tensor>()
            let features = Func<Collections.Generic.IReadOnlyList<torch.Tensor>, torch.Tensor>(fun v ->
                seen.Add(v.[0].clone())
                v.[0].unsqueeze(-1).to_type(torch.ScalarType.Float32))
            let learned inputs = SiteEstimator.ScoreFunction.WithBaseline(Baseline.Learned("bl", torch.nn.Linear(1L, 1L), inputs, features))
            let sub inputs = model {
                let! x = Model.Sample("x", Normal(t 0.0, t 1.0))
                let! y = Model.Sample("y", Bernoulli.FromLogits(t 0.1), learned inputs)
                let! _ = Model.Cost("c", y + x)
                return () }
            let m inputs = Model.Zip(Model.Scope("left", sub inputs), Model.Scope("right", Model.Scope("in", sub inputs)))
            let tr = Interpreter.Sample(m [| "x" |], RunOptions(Seed = 7UL)).Trace
            Surrogate.Build(tr) |> ignore
            Expect.equal seen.Count 2 "one feature call per site"
            let values = seen |> Seq.map (fun v -> v.item<float>()) |> Set.ofSeq
            let expected = [ "left/x"; "right/in/x" ] |> List.map (fun n -> tr.Sample(n).Value.item<float>()) |> Set.ofList
            Expect.equal values expected "each site's baseline read the x of its own scope"
            // a full name still works from inside a scope
            seen.Clear()
            Surrogate.Build(Interpreter.Sample(m [| "left/x" |], RunOptions(Seed = 7UL)).Trace) |> ignore
            Expect.equal (seen |> Seq.map (fun v -> v.item<float>()) |> Set.ofSeq) (Set.singleton (tr.Sample("left/x").Value.item<float>())) "the full name"
            let e = Expect.throwsC (fun () -> Surrogate.Build(Interpreter.Sample(m [| "w" |], RunOptions(Seed = 7UL)).Trace) |> ignore) id
            Expect.stringContains e.Message "'left/w', 'w')" "the names looked up, innermost first"
        }

        test "an enumerated guide site in a scope gives the same exact surrogate as without the scope" {
            let phi = torch.tensor(0.4, dtype = f64, requires_grad = true)
            let guide = Model.Sample("y", Bernoulli.FromLogits(phi), SiteEstimator.Enumerate)
            let generative = model {
                let! y = Model.Sample("y", Bernoulli.FromLogits(t -0.3))
                let! _ = Model.Observe("x", Normal(y * 2.0 - 1.0, t 1.0), t 0.7)
                return () }
            let build g m =
                let s = Surrogate.Build(Interpreter.Sample(Guided.Pair(g, m), RunOptions(Seed = 8UL)).Trace)
                let grad = torch.autograd.grad([| s.Surrogate |], [| phi |]).[0]
                s.Cost.item<float>(), grad.item<float>()
            let plainCost, plainGrad = build guide generative
            let scopedCost, scopedGrad = build (Model.Scope("s", guide)) (Model.Scope("s", generative))
            Expect.floatClose Accuracy.veryHigh scopedCost plainCost "the same −ELBO"
            Expect.floatClose Accuracy.veryHigh scopedGrad plainGrad "the same gradient"
            Expect.isGreaterThan (abs plainGrad) 1e-3 "a gradient that is not trivially zero"
        }

        test "a store with a module shared by two scopes saves and loads" {
            let shared = torch.nn.Linear(2L, 1L)
            let useNet = model {
                let! _ = Model.Module("net", shared)
                let! w = Model.Param("w", fun () -> t 0.25)
                return w }
            let store = ParamStore()
            Interpreter.Sample(Model.Zip(Model.Scope("a", useNet), Model.Scope("b", useNet)), RunOptions(Params = store)) |> ignore
            let weight0 = shared.weight.clone()
            use file = new IO.MemoryStream()
            store.Save(file)
            use _ = torch.no_grad()
            shared.weight.add_(torch.ones_like(shared.weight)) |> ignore
            store.Named.["a/w"].add_(t 1.0) |> ignore
            file.Position <- 0L
            store.Load(file)
            Expect.isTrue (shared.weight.allclose(weight0)) "the shared module's weight restored"
            Expect.floatClose Accuracy.veryHigh (store.Named.["a/w"].item<float>()) 0.25 "a scoped parameter restored"
        }

        test "the verification library lists a module shared by two scopes once" {
            let shared = torch.nn.Linear(1L, 1L, dtype = f64)
            let sub = model {
                let! net = Model.Module("net", shared)
                let! y = Model.Sample("y", Bernoulli.FromLogits(net.call(torch.ones(1L, dtype = f64)).squeeze(-1L)))
                let! _ = Model.Cost("c", y * 2.0)
                return () }
            let g = Scg.Verification.Exact.Gradient(Model.Zip(Model.Scope("a", sub), Model.Scope("b", sub)), ParamStore())
            Expect.equal [ for e in g.Gradient -> e.Label ] [ "a/net.weight"; "a/net.bias" ] "each tensor once, under its first name"
        }

        test "a name not found suggests the scoped names that end like it" {
            let r = Interpreter.Sample(Model.Zip(Model.Scope("a", coin), Model.Scope("b", coin)), RunOptions(Seed = 9UL))
            let e = Expect.throwsC (fun () -> r.Trace.Sample("z") |> ignore) id
            Expect.stringContains e.Message "'a/z', 'b/z'" "the trace lookup lists the full names"
            let guide = Model.Scope("enc", Model.Sample("z", Normal(t 0.2, t 0.5)))
            let generative = model {
                let! z = Model.Sample("z", Normal.Standard([||], f64))
                let! _ = Model.Observe("x", Normal(z, t 1.0), t 0.7)
                return () }
            let e = Expect.throwsC (fun () -> Interpreter.Sample(Guided.Pair(guide, generative)) |> ignore) id
            Expect.stringContains e.Message "'enc/z'" "the guided error names the guide's scoped site"
            Expect.stringContains e.Message "Model.Scope" "and says why"
        }

        test "random plated programs with each product body in a scope of its own: the same surrogates, under prefixed names" {
            let programs = Scg.Tests.RandomPlatedTests.platedSample 5171UL 200 |> Array.filter Scg.Verification.PlatedTransforms.hasZip |> Array.truncate 40
            let problems =
                [ for g in programs do
                    use scope = torch.NewDisposeScope()
                    let leaves = Scg.Verification.PlatedModel.platedLeaves g
                    let nesting = Scg.Verification.PlatedProgram.neededNesting g
                    let runOf m =
                        use gen = new torch.Generator(g.Seed, torch.CPU)
                        Interpreter.Sample(m, RunOptions(Generator = gen, Particles = 3, MaxPlateNesting = nesting)).Trace
                    let plain = runOf (Scg.Verification.PlatedModel.toPlatedModel g 3 nesting leaves)
                    let scoped = runOf (Scg.Verification.PlatedModel.toPlatedModelInScopes g 3 nesting leaves)
                    if not (scoped.Nodes |> Seq.exists (fun n -> n.Name.StartsWith "z0.")) then yield sprintf "no prefixed name in\n%O" g
                    let pairs =
                        [ "Surrogate.Build", (fun t -> Surrogate.Build(t).Surrogate)
                          "Surrogate.Build, per-site walk", (fun t -> Surrogate.Build(t, SurrogateOptions(Vectorize = false)).Surrogate)
                          "Dice.Build", (fun (t: Scg.Tracing.Trace) -> Dice.Build(t).Surrogate) ]
                    // equal to rounding: two seeded runs of these programs differ in the last bits even without scopes
                    // (their forms use matmul, which is not bitwise reproducible on the CPU: design.md)
                    let close (x: float) (y: float) = abs (x - y) <= 1e-10 * (1.0 + max (abs x) (abs y))
                    for (what, build) in pairs do
                        let a, b = build plain, build scoped
                        if not (close (a.item<float>()) (b.item<float>())) then yield sprintf "%s: value %.17g vs %.17g\n%O" what (a.item<float>()) (b.item<float>()) g
                        let ga, gb = Stats.gradOf a leaves, Stats.gradOf b leaves
                        if not (Array.forall2 close ga gb) then yield sprintf "%s: gradient %s vs %s\n%O" what (Stats.fmt ga) (Stats.fmt gb) g ]
            Expect.isGreaterThanOrEqual programs.Length 30 "enough programs with products"
            if not problems.IsEmpty then failtestf "%d of %d programs differ:\n%s" problems.Length programs.Length (String.Join("\n\n", problems |> List.truncate 3))
        }

        test "bad prefixes are refused" {
            Expect.throwsT<ArgumentException> (fun () -> Model.Scope("", coin) |> ignore) "empty"
            Expect.throwsT<ArgumentException> (fun () -> Model.Scope(" ", coin) |> ignore) "blank"
            let e = Expect.throwsC (fun () -> Model.Scope("a/b", coin) |> ignore) id
            Expect.stringContains e.Message "nest two scopes" "a slash"
        }
    ]
