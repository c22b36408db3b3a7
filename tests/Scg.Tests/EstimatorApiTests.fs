/// The estimator and baseline API as a new user meets it (not statistical): overrides by name and predicate,
/// estimators in Model.Sample, the guards on baselines and critics, baseline state in the ParamStore, learned
/// baselines and their loss, Training.Train with a learned baseline, and how estimators print and match.
module Scg.Tests.EstimatorApiTests

open System
open System.Collections.Generic
open Expecto
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Estimators
open Scg.Linq
open Scg.Tracing

let private model = ModelBuilder()
let private f64 = torch.ScalarType.Float64
let private c (x: float) = torch.tensor(x, dtype = f64)
let private leaf (x: float) = torch.tensor(x, dtype = f64, requires_grad = true)
let private throwsMentioning = ErrorTests.throwsMentioning
let private sf = SiteEstimator.ScoreFunction
let private isBernoulli = Func<string, Distribution, bool>(fun _ d -> d :? Bernoulli)

/// a ~ Bernoulli, z ~ Normal, b ~ Bernoulli, then one cost on all three.
let private mixed (theta: torch.Tensor) = model {
    let! a = Model.Sample("a", Bernoulli.FromLogits(theta))
    let! z = Model.Sample("z", Normal(theta, c 1.0))
    let! b = Model.Sample("b", Bernoulli.FromLogits(theta * 0.5))
    let! _ = Model.Cost("cost", a + z * z + b * 2.0)
    return () }

let private runWith (overrides: EstimatorOverrides) m =
    Interpreter.Sample(m, RunOptions(Seed = 1UL, Estimators = overrides)).Trace

let private estimatorOf (tr: Trace) name = tr.Sample(name).Estimator

/// The gradient of <paramref name="s"/> with respect to the leaf <paramref name="p"/> (one backward).
let private gradOf (p: torch.Tensor) (s: torch.Tensor) =
    if not (isNull p.grad) then p.grad.zero_() |> ignore
    s.backward()
    p.grad.clone()

let private item (t: torch.Tensor) = t.to_type(f64).item<float>()

/// y ~ Bernoulli(θ) in a plate of n with the given estimator, cost 3y + 1 per element.
let private plated n (theta: torch.Tensor) (est: SiteEstimator) = Model.Plate("data", n, model {
    let! y = Model.Sample("y", Bernoulli.FromLogits(theta), est)
    let! _ = Model.Cost("c", y * 3.0 + 1.0)
    return () })

let private withBaseline b = sf.WithBaseline(b)

/// x ~ Normal (upstream), y ~ Bernoulli(θ) with baseline bl, cost 2y + 3x + 1, then w ~ Normal(y) (downstream), in
/// a plate of 16; float32 like TorchSharp's modules.
let private learnedModel (theta: torch.Tensor) (bl: Baseline) = Model.Plate("data", 16L, model {
    let! x = Model.Sample("x", Normal(torch.tensor(0.0f), torch.tensor(1.0f)))
    let! y = Model.Sample("y", Bernoulli.FromLogits(theta), withBaseline bl)
    let! _ = Model.Cost("c", y * 2.0f + x * 3.0f + 1.0f)
    let! _ = Model.Sample("w", Normal(y, torch.tensor(1.0f)))
    return () })

let private column = Func<IReadOnlyList<torch.Tensor>, torch.Tensor>(fun vs -> vs.[0].unsqueeze(-1L))

/// A Linear(1, 1) with fixed weights, so that runs are reproducible.
let private linear (w: float32) (b: float32) =
    let lin = torch.nn.Linear(1L, 1L)
    use _ = torch.no_grad()
    lin.weight.fill_(w) |> ignore
    lin.bias.fill_(b) |> ignore
    lin

let private bothConstructions = [ true; false ]

/// Found while writing these tests; each failed before its fix in src/.
let private fixes =
    testList "fixes" [
        test "a learned baseline's default features give one column per input, in and out of plates, with and without particles" {
            let theta = torch.tensor(0.2f, requires_grad = true)
            let m plate (inputs: string[]) module' =
                let body = model {
                    let! x = Model.Sample("x", Normal(torch.tensor(0.0f), torch.tensor(1.0f)))
                    let! x2 = Model.Sample("x2", Normal(torch.tensor(0.0f), torch.tensor(1.0f)))
                    let! y = Model.Sample("y", Bernoulli.FromLogits(theta), withBaseline (Baseline.Learned("bl", module', inputs)))
                    let! _ = Model.Cost("c", y * 2.0f + x * 3.0f + x2 + 1.0f)
                    return () }
                if plate > 0L then Model.Plate("data", plate, body) else body
            for plate in [ 0L; 5L ] do
                for particles in [ 0; 3 ] do
                    let one = torch.nn.Linear(1L, 1L)
                    let two = torch.nn.Linear(2L, 1L)
                    using (torch.no_grad()) (fun _ ->
                        one.weight.fill_(2.0f) |> ignore; one.bias.fill_(1.0f) |> ignore
                        two.weight.copy_(torch.tensor([| 1.0f; 2.0f |]).reshape(1L, 2L)) |> ignore; two.bias.zero_() |> ignore)
                    let cases : (string[] * torch.nn.Module<torch.Tensor, torch.Tensor> * (torch.Tensor -> torch.Tensor -> torch.Tensor)) list =
                        [ [| "x" |], one, (fun x _ -> x * 2.0f + 1.0f)
                          [| "x"; "x2" |], two, (fun x x2 -> x + x2 * 2.0f) ]
                    for inputs, module', baseline in cases do
                        for vectorize in bothConstructions do
                            let tr = Interpreter.Sample(m plate inputs module', RunOptions(Seed = 1UL, Particles = particles)).Trace
                            let o = Surrogate.Build(tr, SurrogateOptions(Vectorize = vectorize))
                            let x, x2, y = tr.Sample("x").Value, tr.Sample("x2").Value, tr.Sample("y").Value
                            let target = y * 2.0f + x * 3.0f + x2 + 1.0f
                            let expected = (baseline x x2 - target).square().mean() |> item
                            Expect.floatClose Accuracy.medium (item o.BaselineLoss) expected
                                $"inputs {inputs.Length}, plate {plate}, particles {particles}, vectorize {vectorize}"
        }

        test "a float64 model with a float32 module: the default features take the module's type" {
            let theta = leaf 0.2
            let tr =
                Interpreter.Sample(Model.Plate("data", 4L, model {
                    let! x = Model.Sample("x", Normal(c 0.0, c 1.0))
                    let! y = Model.Sample("y", Bernoulli.FromLogits(theta), withBaseline (Baseline.Learned("bl", linear 1.0f 0.0f, [| "x" |])))
                    let! _ = Model.Cost("c", y * 2.0 + x)
                    return () }), RunOptions(Seed = 1UL)).Trace
            let o = Surrogate.Build(tr)
            let expected = (tr.Sample("y").Value * 2.0).square().mean() |> item   // b = x, cost-to-go 2y + x
            Expect.floatClose Accuracy.medium (item o.BaselineLoss) expected "the baseline loss"
        }

        test "a learned baseline whose module fails on its features is reported naming the baseline and the site" {
            let theta = leaf 0.2
            let tr = Interpreter.Sample(learnedModel theta (Baseline.Learned("bl", torch.nn.Linear(3L, 1L), [| "x" |])), RunOptions(Seed = 1UL)).Trace
            throwsMentioning [ "Learned baseline 'bl'"; "sample site 'y'"; "[16, 1]"; "features" ] (fun () -> Surrogate.Build(tr) |> ignore)
        }

        test "an optimizer over ParamStore.Parameters() survives a parameter created after it" {
            let store = ParamStore()
            let m t = model {
                let! a = Model.Param("a", fun () -> c 0.5)
                let! later = if t = 0 then model { return c 0.0 } else Model.Param("later", fun () -> c 0.5)
                let! y = Model.Sample("y", Normal(a + later, c 1.0))
                let! _ = Model.Cost("cost", y.square())
                return () }
            store.Initialize(m 0) |> ignore
            let opt = torch.optim.SGD(store.Parameters(), 0.1)
            for t in 0 .. 1 do
                let o = Surrogate.Build(Interpreter.Sample(m t, RunOptions(Seed = 1UL, Params = store)).Trace)
                opt.zero_grad()
                o.Loss.backward()
                opt.step() |> ignore
            Expect.isFalse (item store.["a"] = 0.5) "the parameter known to the optimizer trained"
            Expect.equal (item store.["later"]) 0.5 "the later one is not the optimizer's (it was not in the snapshot)"
        }

        test "Training.Train trains a learned baseline given as SurrogateOptions.Baseline" {
            let store = ParamStore()
            let lin = linear 0.0f 0.0f
            let m = model {
                let! theta = Model.Param("theta", fun () -> torch.tensor(0.2f))
                let! x = Model.Sample("x", Normal(torch.tensor(0.0f), torch.tensor(1.0f)))
                let! y = Model.Sample("y", Bernoulli.FromLogits(theta))
                let! _ = Model.Cost("c", y * 2.0f + x * 3.0f + 1.0f)
                return () }
            let options = SurrogateOptions(Baseline = Baseline.Learned("bl", lin, [| "x" |]))
            Training.Train((fun _ -> m), store, (fun ps -> torch.optim.SGD(ps, 0.1) :> torch.optim.Optimizer), 3, RunOptions(Seed = 1UL), options) |> ignore
            Expect.isTrue (store.Modules.ContainsKey "bl") "registered before the optimizer was built"
            Expect.isFalse (item lin.weight = 0.0) "and trained"
        }
    ]

let private overrides =
    testList "overrides" [
        test "by name, an override reaches exactly the site it names" {
            let theta = leaf 0.3
            let bl = Baseline.Constant 1.0
            let tr = runWith (EstimatorOverrides.None.For("a", withBaseline bl)) (mixed theta)
            Expect.equal (estimatorOf tr "a") (withBaseline bl) "a: the override"
            Expect.equal (estimatorOf tr "b") sf "b: Auto resolved, untouched"
            Expect.equal (estimatorOf tr "z") SiteEstimator.Pathwise "z: Auto resolved, untouched"
            let tr2 = runWith (EstimatorOverrides.None.For("z", sf)) (mixed theta)
            Expect.equal (estimatorOf tr2 "z") sf "a Normal turned into a score-function site"
            Expect.isTrue (tr2.Sample("z").IsScoreFunction) "and it is scored"
            Expect.equal (estimatorOf tr2 "a") sf "a untouched"
        }

        test "a predicate selects sites by distribution type; the last matching rule wins" {
            let theta = leaf 0.3
            let one, two = Baseline.Constant 1.0, Baseline.Constant 2.0
            let tr = runWith (EstimatorOverrides.None.ForSites(isBernoulli, withBaseline one).For("a", withBaseline two)) (mixed theta)
            Expect.equal (estimatorOf tr "a") (withBaseline two) "a: the later rule by name"
            Expect.equal (estimatorOf tr "b") (withBaseline one) "b: the predicate"
            Expect.equal (estimatorOf tr "z") SiteEstimator.Pathwise "z is no Bernoulli"
            let tr2 = runWith (EstimatorOverrides.None.For("a", withBaseline two).ForSites(isBernoulli, withBaseline one)) (mixed theta)
            Expect.equal (estimatorOf tr2 "a") (withBaseline one) "a: the later predicate wins over the earlier name"
        }

        test "an override naming no sample site is an error naming it and the sites sampled" {
            let theta = leaf 0.3
            for name in [ "c"; "cost" ] do   // a misspelling, and a cost's name
                throwsMentioning [ $"'{name}'"; "sampled no site"; "'a', 'b', 'z'" ] (fun () ->
                    runWith (EstimatorOverrides.None.For("a", sf).For(name, sf)) (mixed theta) |> ignore)
            // a predicate that matches nothing is not an error (it names no site)
            runWith (EstimatorOverrides.None.ForSites(Func<_, _, _>(fun n _ -> n = "nothing"), sf)) (mixed theta) |> ignore
        }

        test "an override to Pathwise on a Bernoulli is refused, naming the site" {
            let theta = leaf 0.3
            throwsMentioning [ "'b'"; "pathwise"; "Bernoulli"; "not reparameterised" ] (fun () ->
                runWith (EstimatorOverrides.None.For("b", SiteEstimator.Pathwise)) (mixed theta) |> ignore)
            throwsMentioning [ "'a'"; "not reparameterised" ] (fun () ->
                runWith (EstimatorOverrides.None.ForSites(isBernoulli, SiteEstimator.Pathwise)) (mixed theta) |> ignore)
        }

        test "overrides apply with particles (through the dry run that measures nesting) and with replay" {
            let theta = leaf 0.3
            let rules = EstimatorOverrides.None.ForSites(isBernoulli, withBaseline Baseline.LeaveOneOut).For("z", sf)
            let run = Interpreter.Sample(mixed theta, RunOptions(Seed = 1UL, Particles = 3, Estimators = rules))
            Expect.equal (estimatorOf run.Trace "a") (withBaseline Baseline.LeaveOneOut) "a, with particles"
            Expect.equal (estimatorOf run.Trace "z") sf "z, with particles"
            Surrogate.Build(run.Trace) |> ignore   // leave-one-out has its particles
            throwsMentioning [ "'a'"; "not reparameterised" ] (fun () ->
                Interpreter.Sample(mixed theta, RunOptions(Particles = 3, Estimators = EstimatorOverrides.None.For("a", SiteEstimator.Pathwise))) |> ignore)
            throwsMentioning [ "'q'"; "sampled no site" ] (fun () ->
                Interpreter.Sample(mixed theta, RunOptions(Particles = 3, Estimators = EstimatorOverrides.None.For("q", sf))) |> ignore)
            // replay: the override is recorded, the replayed site adds no score term, a wrong name is still an error
            let replayed = Interpreter.Replay(mixed theta, run.Trace, RunOptions(Particles = 3, Estimators = EstimatorOverrides.None.For("z", sf)))
            Expect.equal (estimatorOf replayed.Trace "z") sf "z, replayed"
            Expect.isFalse (replayed.Trace.Sample("z").IsScoreFunction) "a replayed site is not scored"
            throwsMentioning [ "'zz'"; "sampled no site" ] (fun () ->
                Interpreter.Replay(mixed theta, run.Trace, RunOptions(Particles = 3, Estimators = EstimatorOverrides.None.For("zz", sf))) |> ignore)
        }

        test "Model.Sample takes an estimator value; null means Auto" {
            let theta = leaf 0.3
            let tr =
                Interpreter.Sample(model {
                    let! _ = Model.Sample("n", Normal(theta, c 1.0), null)
                    let! _ = Model.Sample("m", Bernoulli.FromLogits(theta), null)
                    let! _ = Model.Sample("s", Normal(theta, c 1.0), sf)
                    let! _ = Model.Sample("p", Normal(theta, c 1.0), SiteEstimator.Pathwise)
                    return () }, RunOptions(Seed = 1UL)).Trace
            Expect.equal (estimatorOf tr "n") SiteEstimator.Pathwise "null on a Normal: Auto, pathwise"
            Expect.equal (estimatorOf tr "m") sf "null on a Bernoulli: Auto, score function"
            Expect.equal (estimatorOf tr "s") sf "ScoreFunction on a Normal"
            Expect.equal (estimatorOf tr "p") SiteEstimator.Pathwise "Pathwise on a Normal"
        }

        test "Auto.WithBaseline: a Bernoulli gets the score function with that baseline, a Normal stays pathwise" {
            let theta = leaf 0.3
            let ma = Baseline.MovingAverage(0.8)
            let auto = SiteEstimator.Auto.WithBaseline(ma)
            let tr =
                Interpreter.Sample(model {
                    let! _ = Model.Sample("m", Bernoulli.FromLogits(theta), auto)
                    let! _ = Model.Sample("n", Normal(theta, c 1.0), auto)
                    return () }, RunOptions(Seed = 1UL)).Trace
            match estimatorOf tr "m" with
            | :? ScoreFunctionEstimator as s ->
                Expect.equal s.Baseline (ma :> Baseline) "the baseline is carried over"
                Expect.isNull s.Critic "no critic"
            | other -> failtestf "expected a score-function estimator, got %O" other
            Expect.equal (estimatorOf tr "n") SiteEstimator.Pathwise "a Normal is pathwise"
        }

        test "WithCritic is refused on Auto and Pathwise, WithBaseline on Pathwise; both say what to use" {
            let critic = Critic(fun _ _ -> c 0.0)
            throwsMentioning [ "ScoreFunction.WithCritic" ] (fun () -> SiteEstimator.Auto.WithCritic(critic) |> ignore)
            throwsMentioning [ "pathwise"; "ScoreFunction.WithCritic" ] (fun () -> SiteEstimator.Pathwise.WithCritic(critic) |> ignore)
            throwsMentioning [ "pathwise"; "ScoreFunction" ] (fun () -> SiteEstimator.Pathwise.WithBaseline(Baseline.Constant 1.0) |> ignore)
        }

        test "C#: per-site estimators in a LINQ query, a lambda predicate, and a switch on the resolved estimator" {
            let theta = leaf 0.3
            let kinds learned overrides =
                Scg.Tests.CSharp.EstimatorLinq.Kinds(
                    Scg.Tests.CSharp.EstimatorLinq.Query(theta, linear 0.0f 0.0f, learned), RunOptions(Seed = 1UL, Estimators = overrides))
            let plain = kinds false null
            Expect.equal plain.["a"] "score, moving average 0.9" "a: its baseline from the query"
            Expect.equal plain.["z"] "pathwise" "z: Auto"
            Expect.equal plain.["b"] "score" "b: the conditional's plain branch"
            Expect.equal (kinds true null).["b"] "score, learned bl" "b: the conditional's learned branch"
            let over = kinds false (Scg.Tests.CSharp.EstimatorLinq.BernoulliLeaveOneOutThenA())
            Expect.equal over.["a"] "score, constant 2" "a: the later rule"
            Expect.equal over.["b"] "score, leave-one-out" "b: the predicate"
            Expect.equal over.["z"] "pathwise" "z: no Bernoulli"
        }
    ]

let private guards =
    testList "guards" [
        test "a learned baseline reading the site itself or a downstream site is refused, naming both" {
            let theta = leaf 0.3
            for vectorize in bothConstructions do
                let build inputs =
                    let tr = Interpreter.Sample(learnedModel theta (Baseline.Learned("bl", linear 1.0f 0.0f, inputs, column)),
                                                RunOptions(Seed = 1UL, Params = ParamStore())).Trace
                    Surrogate.Build(tr, SurrogateOptions(Vectorize = vectorize)) |> ignore
                throwsMentioning [ "'bl'"; "sample site 'y'"; "reads 'y'"; "the site itself" ] (fun () -> build [| "y" |])
                throwsMentioning [ "'bl'"; "sample site 'y'"; "reads 'w'"; "downstream of 'y'" ] (fun () -> build [| "x"; "w" |])
                throwsMentioning [ "'bl'"; "'y'"; "reads 'nowhere'"; "no sample or observe site" ] (fun () -> build [| "nowhere" |])
                throwsMentioning [ "'bl'"; "reads 'c'"; "no sample or observe site" ] (fun () -> build [| "c" |])
                build [| "x" |]   // upstream: fine
        }

        test "a baseline whose shape does not broadcast to the site's log-probability is refused (custom, learned, critic)" {
            let theta = leaf 0.3
            for vectorize in bothConstructions do
                let options = SurrogateOptions(Vectorize = vectorize)
                // custom, attached to the site, in a plate of 4
                let tr = Interpreter.Sample(plated 4L theta (withBaseline (Baseline.Custom(fun _ _ -> torch.zeros(3L, dtype = f64)))), RunOptions(Seed = 1UL)).Trace
                throwsMentioning [ "'y'"; "baseline"; "[3]"; "[4]" ] (fun () -> Surrogate.Build(tr, options) |> ignore)
                // custom, one per element on a scalar site: would multiply the score term
                let tr1 = Interpreter.Sample(plated 1L theta (withBaseline (Baseline.Custom(fun _ _ -> torch.zeros(5L, dtype = f64)))), RunOptions(Seed = 1UL)).Trace
                throwsMentioning [ "'y'"; "[5]" ] (fun () -> Surrogate.Build(tr1, options) |> ignore)
                // a critic's estimate is held to the same rule
                let trC = Interpreter.Sample(plated 4L theta (sf.WithCritic(Critic(fun _ _ -> torch.zeros(2L, dtype = f64)))), RunOptions(Seed = 1UL)).Trace
                throwsMentioning [ "'y'"; "critic's estimate"; "[2]"; "[4]" ] (fun () -> Surrogate.Build(trC, options) |> ignore)
                // learned, with a module that answers two numbers per element
                let wide = torch.nn.Linear(1L, 2L)
                let trL = Interpreter.Sample(learnedModel theta (Baseline.Learned("wide", wide, [| "x" |], column)), RunOptions(Seed = 1UL, Params = ParamStore())).Trace
                throwsMentioning [ "'y'"; "baseline"; "[16, 2]"; "[16]" ] (fun () -> Surrogate.Build(trL, options) |> ignore)
        }

        test "constant and per-element baselines are accepted and agree across both constructions and the stacked path" {
            let theta = leaf 0.3
            // two like-shaped sites in one plate: a constant shared by both takes the stacked path; a custom one does not
            let two (bl: Baseline) = Model.Plate("data", 4L, model {
                let! y = Model.Sample("y", Bernoulli.FromLogits(theta), withBaseline bl)
                let! v = Model.Sample("v", Bernoulli.FromLogits(theta * 2.0), withBaseline bl)
                let! _ = Model.Cost("c", y * 3.0 + v)
                return () })
            let surrogate bl vectorize =
                let tr = Interpreter.Sample(two bl, RunOptions(Seed = 4UL, Particles = 2)).Trace
                gradOf theta (Surrogate.Build(tr, SurrogateOptions(Vectorize = vectorize)).Surrogate) |> item
            let reference = surrogate (Baseline.Custom(fun _ q -> torch.full_like(q, 1.5))) false
            for vectorize in bothConstructions do
                Expect.floatClose Accuracy.high (surrogate (Baseline.Constant 1.5) vectorize) reference $"constant, vectorize={vectorize}"
                Expect.floatClose Accuracy.high (surrogate (Baseline.Custom(fun _ _ -> c 1.5)) vectorize) reference $"scalar custom, vectorize={vectorize}"
                Expect.floatClose Accuracy.high (surrogate (Baseline.Custom(fun _ q -> torch.full_like(q, 1.5))) vectorize) reference $"per element, vectorize={vectorize}"
        }

        test "NaN baselines and NaN critic estimates are refused under validation, passed through without" {
            let theta = leaf 0.3
            let nanBaseline = withBaseline (Baseline.Custom(fun _ _ -> c nan))
            let nanCritic = sf.WithCritic(Critic(fun _ _ -> c nan))
            for vectorize in bothConstructions do
                for est, what in [ nanBaseline, "baseline"; nanCritic, "critic" ] do
                    let tr = Interpreter.Sample(plated 3L theta est, RunOptions(Seed = 1UL)).Trace
                    throwsMentioning [ "'y'"; what; "not finite" ] (fun () -> Surrogate.Build(tr, SurrogateOptions(Vectorize = vectorize)) |> ignore)
                    let s = Surrogate.Build(tr, SurrogateOptions(Vectorize = vectorize, ValidateArguments = false))
                    Expect.isFalse (s.Surrogate.isfinite().item<bool>()) $"{what}: unchecked without validation"
                    let unchecked = Interpreter.Sample(plated 3L theta est, RunOptions(Seed = 1UL, ValidateArguments = false)).Trace
                    Surrogate.Build(unchecked, SurrogateOptions(Vectorize = vectorize)) |> ignore   // follows the run
            // a learned baseline whose module answers NaN
            let nanModule = linear Single.NaN 0.0f
            let trL = Interpreter.Sample(learnedModel theta (Baseline.Learned("nan", nanModule, [| "x" |], column)), RunOptions(Seed = 1UL, Params = ParamStore())).Trace
            throwsMentioning [ "'y'"; "baseline"; "not finite" ] (fun () -> Surrogate.Build(trL) |> ignore)
        }

        test "leave-one-out without particles or with K = 1 is a clear error" {
            let theta = leaf 0.3
            for vectorize in bothConstructions do
                for particles, said in [ 0, "none"; 1, "K = 1" ] do
                    let tr = Interpreter.Sample(plated 3L theta (withBaseline Baseline.LeaveOneOut), RunOptions(Seed = 1UL, Particles = particles)).Trace
                    throwsMentioning [ "'y'"; "leave-one-out"; "K ≥ 2"; "RunOptions.Particles"; said ] (fun () ->
                        Surrogate.Build(tr, SurrogateOptions(Vectorize = vectorize)) |> ignore)
                let tr2 = Interpreter.Sample(plated 3L theta (withBaseline Baseline.LeaveOneOut), RunOptions(Seed = 1UL, Particles = 2)).Trace
                Surrogate.Build(tr2, SurrogateOptions(Vectorize = vectorize)) |> ignore
        }

        test "a moving average in a run without a parameter store is a clear error; SurrogateOptions.Store is an alternative" {
            let theta = leaf 0.3
            let tr = Interpreter.Sample(plated 3L theta (withBaseline (Baseline.MovingAverage())), RunOptions(Seed = 1UL)).Trace
            for vectorize in bothConstructions do
                throwsMentioning [ "'y'"; "moving-average"; "no parameter store"; "RunOptions.Params" ] (fun () ->
                    Surrogate.Build(tr, SurrogateOptions(Vectorize = vectorize)) |> ignore)
            let store = ParamStore()
            Surrogate.Build(tr, SurrogateOptions(Store = store)) |> ignore
            Expect.equal store.States.Count 1 "the state went to the given store"
        }

        test "a per-element moving average refuses a plate that changed size between steps" {
            let theta = leaf 0.3
            let store = ParamStore()
            let step n =
                let tr = Interpreter.Sample(plated n theta (withBaseline (Baseline.MovingAverage(perElement = true))), RunOptions(Seed = 1UL, Params = store)).Trace
                Surrogate.Build(tr) |> ignore
            step 3L
            step 3L
            throwsMentioning [ "'y'"; "[3]"; "[4]"; "plates changed size"; "perElement: false" ] (fun () -> step 4L)
            // one scalar per site does not mind
            let store2 = ParamStore()
            for n in [ 3L; 4L ] do
                Surrogate.Build(Interpreter.Sample(plated n theta (withBaseline (Baseline.MovingAverage())), RunOptions(Seed = 1UL, Params = store2)).Trace) |> ignore
        }

        test "a decay outside [0, 1) and a non-finite constant are refused" {
            throwsMentioning [ "decay"; "[0, 1)"; "1" ] (fun () -> Baseline.MovingAverage(decay = 1.0) |> ignore)
            throwsMentioning [ "decay" ] (fun () -> Baseline.MovingAverage(decay = -0.1) |> ignore)
            throwsMentioning [ "constant"; "finite"; "NaN" ] (fun () -> Baseline.Constant nan |> ignore)
            throwsMentioning [ "finite" ] (fun () -> Baseline.Constant infinity |> ignore)
            Baseline.MovingAverage(decay = 0.0) |> ignore
        }
    ]

let private state =
    testList "state" [
        test "a moving average lives in the ParamStore: no baseline on the first step, the running mean after" {
            let theta = leaf 0.3
            let store = ParamStore()
            let ma = withBaseline (Baseline.MovingAverage(0.9))
            let step (seed: uint64) =
                let withMa = Interpreter.Sample(plated 4L theta ma, RunOptions(Seed = seed, Params = store)).Trace
                let plain = Interpreter.Sample(plated 4L theta ma, RunOptions(Seed = seed, Estimators = EstimatorOverrides.None.For("y", sf))).Trace
                let g = gradOf theta (Surrogate.Build(withMa).Surrogate) |> item
                let g0 = gradOf theta (Surrogate.Build(plain).Surrogate) |> item
                let meanCost = (withMa.Sample("y").Value * 3.0 + 1.0).mean() |> item
                g, g0, meanCost
            let g1, g01, m1 = step 1UL
            Expect.floatClose Accuracy.veryHigh g1 g01 "step 1: no baseline yet"
            let key = store.States.Keys |> Seq.exactlyOne
            Expect.stringContains key "y" "the state is named after the site"
            Expect.floatClose Accuracy.veryHigh (item store.States.[key]) m1 "after step 1: the first mean cost-to-go"
            let g2, g02, m2 = step 2UL
            Expect.isFalse (abs (g2 - g02) < 1e-9) "step 2: the baseline changes the gradient"
            Expect.equal store.States[key].shape [||] "one scalar per site"
            Expect.floatClose Accuracy.veryHigh (item store.States.[key]) (0.9 * m1 + 0.1 * m2) "after step 2: the moving average"
        }

        test "a per-element moving average keeps one value per plate element (averaged over particles)" {
            let theta = leaf 0.3
            for particles in [ 0; 3 ] do
                let store = ParamStore()
                let tr = Interpreter.Sample(plated 4L theta (withBaseline (Baseline.MovingAverage(perElement = true))),
                                            RunOptions(Seed = 1UL, Params = store, Particles = particles)).Trace
                Surrogate.Build(tr) |> ignore
                let s = store.States.Values |> Seq.exactlyOne
                Expect.equal s.NumberOfElements 4L $"one per element, particles={particles}"
                let expected = (tr.Sample("y").Value * 3.0 + 1.0)
                let expected = if particles > 0 then expected.mean([| 0L |]) else expected
                Expect.isTrue (s.reshape(4L).allclose(expected.reshape(4L))) "the element's cost-to-go"
        }

        test "two runs from the same seed with fresh stores give identical surrogates" {
            let theta = leaf 0.3
            let steps () =
                let store = ParamStore()
                use gen = new torch.Generator(7UL)
                [ for _ in 1 .. 3 ->
                    let tr = Interpreter.Sample(plated 4L theta (withBaseline (Baseline.MovingAverage(0.5))), RunOptions(Generator = gen, Params = store)).Trace
                    item (Surrogate.Build(tr).Surrogate) ]
            let first, second = steps (), steps ()
            Expect.sequenceEqual second first "bit for bit"
            Expect.isFalse (first.[0] = first.[1] && first.[1] = first.[2]) "the steps differ (fresh noise, a moving baseline)"
        }
    ]

let private learned =
    testList "learned" [
        test "the module is registered in the store when the model runs, so Initialize gives the optimizer its parameters" {
            let store = ParamStore()
            let lin = linear 0.5f 0.0f
            let m = model {
                let! theta = Model.Param("theta", fun () -> torch.tensor(0.2f))
                return! learnedModel theta (Baseline.Learned("bl", lin, [| "x" |], column)) }
            store.Initialize(m) |> ignore
            Expect.isTrue (store.Modules.ContainsKey "bl") "registered under its name"
            let ps = store.Parameters() |> Seq.toList
            Expect.equal ps.Length 3 "theta, the weight and the bias"
            Expect.isTrue (ps |> List.exists (fun p -> obj.ReferenceEquals(p, lin.weight))) "the module's weight"
        }

        test "the baseline loss reaches only the module, the surrogate only the model (no leak either way)" {
            for vectorize in bothConstructions do
                let objective () =
                    let theta = torch.tensor(0.2f, requires_grad = true)
                    let lin = linear 0.5f 0.1f
                    let tr = Interpreter.Sample(learnedModel theta (Baseline.Learned("bl", lin, [| "x" |], column)), RunOptions(Seed = 1UL, Params = ParamStore())).Trace
                    theta, lin, Surrogate.Build(tr, SurrogateOptions(Vectorize = vectorize))
                let theta, lin, o = objective ()
                Expect.isNotNull o.BaselineLoss "a learned baseline has a loss"
                o.BaselineLoss.backward()
                Expect.isNull theta.grad "the baseline loss does not reach the model"
                Expect.isTrue ((lin.weight.grad.abs().sum() |> item) > 0.0) "the baseline loss reaches the module"
                let theta2, lin2, o2 = objective ()
                o2.Surrogate.backward()
                Expect.isTrue ((theta2.grad.abs() |> item) > 0.0) "the surrogate reaches the model"
                Expect.isTrue (isNull lin2.weight.grad) "the surrogate does not reach the module"
                Expect.floatClose Accuracy.high (item o2.Loss) (item o2.Surrogate + item o2.BaselineLoss) "Loss = Surrogate + BaselineLoss"
        }

        test "a few steps on objective.Loss reduce the baseline loss" {
            let store = ParamStore()
            let m = model {
                let! theta = Model.Param("theta", fun () -> torch.tensor(0.2f))
                return! learnedModel theta (Baseline.Learned("bl", linear 0.0f 0.0f, [| "x" |], column)) }
            store.Initialize(m) |> ignore
            let opt = torch.optim.SGD(store.Parameters(), 0.1)
            use gen = new torch.Generator(3UL)
            let losses =
                [ for _ in 1 .. 40 ->
                    let o = Surrogate.Build(Interpreter.Sample(m, RunOptions(Generator = gen, Params = store)).Trace)
                    opt.zero_grad()
                    o.Loss.backward()
                    opt.step() |> ignore
                    item o.BaselineLoss ]
            let early, late = List.average losses.[0..4], List.average losses.[35..39]
            Expect.isLessThan late (early / 4.0) $"the baseline learns the cost-to-go (from {early} to {late})"
        }

        test "Training.Train trains a learned baseline and the model's parameters as a surrogate-only loop does" {
            let train useTrainer =
                let store = ParamStore()
                let lin = linear 0.0f 0.0f
                let m = model {
                    let! theta = Model.Param("theta", fun () -> torch.tensor(0.2f))
                    return! learnedModel theta (Baseline.Learned("bl", lin, [| "x" |], column)) }
                let options = RunOptions(Seed = 5UL, Params = store)
                if useTrainer then
                    Training.Train((fun _ -> m), store, (fun ps -> torch.optim.SGD(ps, 0.05) :> torch.optim.Optimizer), 5, options) |> ignore
                else
                    // the reference: the model's parameter on the surrogate alone, the module on its loss alone
                    store.Initialize(m, options) |> ignore
                    let modelOpt = torch.optim.SGD([ store.["theta"] ], 0.05)
                    let moduleOpt = torch.optim.SGD(lin.parameters(), 0.05)
                    use gen = new torch.Generator(5UL)
                    for _ in 1 .. 5 do
                        let o = Surrogate.Build(Interpreter.Sample(m, RunOptions(Generator = gen, Params = store)).Trace)
                        modelOpt.zero_grad(); moduleOpt.zero_grad()
                        o.Surrogate.backward()
                        o.BaselineLoss.backward()
                        modelOpt.step() |> ignore
                        moduleOpt.step() |> ignore
                item store.["theta"], item lin.weight, item lin.bias
            let theta, w, b = train true
            let theta0, w0, b0 = train false
            Expect.isTrue (w <> 0.0 && b <> 0.0) "Training.Train moved the baseline's weights"
            Expect.floatClose Accuracy.high theta theta0 "the model's parameter trains as on the surrogate alone"
            Expect.floatClose Accuracy.high w w0 "the weight as on the baseline loss alone"
            Expect.floatClose Accuracy.high b b0 "the bias as on the baseline loss alone"
            Expect.isFalse (theta = 0.2) "theta moved"
        }
    ]

let private printing =
    testList "printing" [
        test "a trace shows each site's estimator readably" {
            let theta = leaf 0.3
            let tr =
                Interpreter.Sample(model {
                    let! _ = Model.Sample("m", Bernoulli.FromLogits(theta), withBaseline (Baseline.MovingAverage(0.9)))
                    let! _ = Model.Sample("l", Bernoulli.FromLogits(theta), withBaseline Baseline.LeaveOneOut)
                    let! _ = Model.Sample("k", Bernoulli.FromLogits(theta), withBaseline (Baseline.Constant 2.5))
                    let! _ = Model.Sample("r", Bernoulli.FromLogits(theta), withBaseline (Baseline.Learned("bl", linear 0.0f 0.0f, [| "m"; "l" |])))
                    let! _ = Model.Sample("q", Bernoulli.FromLogits(theta), sf.WithCritic(Critic(fun _ _ -> c 0.0)).WithBaseline(Baseline.Constant 1.0))
                    let! _ = Model.Sample("n", Normal(theta, c 1.0))
                    return () }, RunOptions(Seed = 1UL, Particles = 2)).Trace
            let text = tr.ToString()
            for fragment in [ "sample m ~ Bernoulli"; "ScoreFunction(baseline: moving average 0.9)"; "ScoreFunction(baseline: leave-one-out)"
                              "ScoreFunction(baseline: constant 2.5)"; "ScoreFunction(baseline: learned 'bl' from (m, l))"
                              "ScoreFunction(baseline: constant 1, critic)"; "(Pathwise)" ] do
                Expect.stringContains text fragment "the trace's text"
            Expect.stringContains (tr.Sample("m").Describe()) "ScoreFunction(baseline: moving average 0.9)" "Describe"
            Expect.equal (string (SiteEstimator.Auto.WithBaseline(Baseline.MovingAverage(0.9, perElement = true)))) "Auto(baseline: moving average 0.9 per element)" "Auto with a baseline"
            Expect.equal (string SiteEstimator.Auto) "Auto" "Auto"
            Expect.stringContains (string (EstimatorOverrides.None.For("y", sf))) "y → ScoreFunction" "overrides"
        }

        test "F#: type tests on estimators and a conditional choice of estimator" {
            let theta = leaf 0.3
            let choose reparameterise = if reparameterise then SiteEstimator.Pathwise else SiteEstimator.ScoreFunction
            let tr =
                Interpreter.Sample(model {
                    let! _ = Model.Sample("y", Normal(theta, c 1.0), choose false)
                    let! _ = Model.Sample("z", Normal(theta, c 1.0), choose true)
                    return () }, RunOptions(Seed = 1UL)).Trace
            let describe (e: SiteEstimator) =
                match e with
                | :? ScoreFunctionEstimator as s when isNull (box s.Baseline) -> "plain score"
                | :? ScoreFunctionEstimator as s -> sprintf "score with %O" s.Baseline
                | :? PathwiseEstimator -> "pathwise"
                | _ -> "other"
            Expect.equal (describe (estimatorOf tr "y")) "plain score" "y"
            Expect.equal (describe (estimatorOf tr "z")) "pathwise" "z"
            Expect.equal (describe (withBaseline Baseline.LeaveOneOut)) "score with leave-one-out" "a value, not a run"
        }
    ]

[<Tests>]
let tests = testList "estimator API" [ fixes; overrides; guards; state; learned; printing ]
