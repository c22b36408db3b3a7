/// Training.Fit: a resumed run equals an unbroken one (parameters, baseline state, Adam's moments and the
/// generator's position all come back from the checkpoint); budget, cancellation, clipping, reporting, other
/// objectives, and clear errors for non-finite steps and bad files.
module Scg.Tests.TrainingFitTests

open System
open System.IO
open System.Threading
open Expecto
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Estimators
open Scg.Objectives
open Scg.Linq

let private model = ModelBuilder()
let private throwsMentioning = ErrorTests.throwsMentioning

/// A plated model with a score-function site (moving-average baseline), a pathwise site, a parameter and a module.
let private build (net: torch.nn.Module<torch.Tensor, torch.Tensor>) =
    Model.Plate("data", 3L, model {
        let! theta = Model.Param("theta", fun () -> torch.zeros(3L))
        let! lin = Model.Module("net", net)
        let! y = Model.Sample("y", Bernoulli.FromLogits(theta), SiteEstimator.ScoreFunction.WithBaseline(Baseline.MovingAverage(0.5)))
        let! z = Model.Sample("z", Normal(lin.call(y.unsqueeze(-1)).squeeze(-1), torch.ones(3L)))
        let! _ = Model.Cost("c", (z - 1.0).square() + (y - 0.3).square())
        return () })

let private adam (ps: seq<Modules.Parameter>) = torch.optim.Adam(ps, 0.05) :> torch.optim.Optimizer
let private values (store: ParamStore) =
    [ for kv in store.Named -> kv.Value.detach().clone() ] @ [ for m in store.Modules.Values do for p in m.parameters() -> p.detach().clone() ]
let private fresh () =
    torch.manual_seed(7L) |> ignore
    torch.nn.Linear(1L, 1L)
let private tempFile () = Path.Combine(Path.GetTempPath(), $"scg-fit-{Guid.NewGuid():N}.ckpt")
let private options = RunOptions(Seed = 11UL)

[<Tests>]
let tests =
    testList "Training.Fit" [
        test "a run stopped and resumed from its checkpoint equals the unbroken run, value for value" {
            let whole = ParamStore()
            let net = fresh ()
            let unbroken = Training.Fit((fun _ -> build net), whole, adam, FitOptions(Steps = 20), options)
            Expect.equal unbroken.StepsDone 20 "20 steps"
            Expect.equal unbroken.StoppedBy FitStop.Steps "stopped by the step count"
            let path = tempFile ()
            try
                let firstHalf = ParamStore()
                let net1 = fresh ()
                let a = Training.Fit((fun _ -> build net1), firstHalf, adam, FitOptions(Steps = 10, CheckpointPath = path), options)
                Expect.equal a.StepsDone 10 "first half"
                let resumed = ParamStore()
                let net2 = torch.nn.Linear(1L, 1L)   // other initial weights: the checkpoint must overwrite them
                let b = Training.Fit((fun _ -> build net2), resumed, adam, FitOptions(Steps = 20, CheckpointPath = path), options)
                Expect.equal b.FirstStep 10 "resumed at step 10"
                Expect.equal b.StepsDone 20 "and finished"
                Expect.sequenceEqual (Seq.append a.Values b.Values) unbroken.Values "the same value at every step"
                for (x, y) in List.zip (values whole) (values resumed) do
                    Expect.isTrue (x.allclose(y, 0.0, 0.0)) "the same parameters at the end"
                Expect.equal (Checkpoint.Read(path).Step) 20 "the final checkpoint holds the last step"
            finally
                File.Delete path
        }

        test "without the optimizer's state or the generator's position a resumed run differs (the test above can fail)" {
            let whole = ParamStore()
            let unbroken = Training.Fit((fun _ -> build (fresh ())), whole, adam, FitOptions(Steps = 12), options)
            let half = ParamStore()
            Training.Fit((fun _ -> build (fresh ())), half, adam, FitOptions(Steps = 6), options) |> ignore
            let path = tempFile ()
            try
                Checkpoint.Save(path, 6, half)   // parameters and states only
                let b = Training.Fit((fun _ -> build (torch.nn.Linear(1L, 1L))), ParamStore(), adam, FitOptions(Steps = 12, CheckpointPath = path), options)
                Expect.equal b.FirstStep 6 "resumed"
                Expect.isFalse (Seq.forall2 (=) b.Values (Seq.skip 6 unbroken.Values)) "fresh moments and a restarted generator change the values"
            finally
                File.Delete path
        }

        test "a spent budget stops before the next step; cancellation stops with a checkpoint" {
            let r = Training.Fit((fun _ -> build (fresh ())), ParamStore(), adam, FitOptions(Steps = 100, Budget = TimeSpan.Zero), options)
            Expect.equal (r.StoppedBy, r.StepsDone, r.Values.Count) (FitStop.Budget, 0, 0) "a zero budget takes no step"
            let timed = Training.Fit((fun _ -> build (fresh ())), ParamStore(), adam, FitOptions(Steps = 1000000, Budget = TimeSpan.FromMilliseconds 300.0), options)
            Expect.equal timed.StoppedBy FitStop.Budget "stopped by the budget"
            Expect.isLessThan timed.StepsDone 1000000 "before the step count"
            use cts = new CancellationTokenSource()
            let seen = Collections.Generic.List<int>()
            let reported = Collections.Generic.List<int>()
            let progress = { new IProgress<TrainingStep> with member _.Report s = reported.Add s.Step }
            let onStep (s: TrainingStep) =
                seen.Add s.Step
                Expect.isGreaterThanOrEqual s.Elapsed TimeSpan.Zero "elapsed time"
                if s.Step = 4 then cts.Cancel()
            let path = tempFile ()
            try
                let c = Training.Fit((fun _ -> build (fresh ())), ParamStore(), adam,
                                     FitOptions(Steps = 50, OnStep = Action<TrainingStep>(onStep), Progress = progress,
                                                Cancellation = cts.Token, CheckpointPath = path), options)
                Expect.equal (c.StoppedBy, c.StepsDone) (FitStop.Cancelled, 5) "stopped after the step that cancelled"
                Expect.sequenceEqual seen [ 0 .. 4 ] "the callback saw every step in order"
                Expect.sequenceEqual reported [ 0 .. 4 ] "and so did the progress"
                Expect.equal (Checkpoint.Read(path).Step) 5 "a checkpoint at the stop"
            finally
                File.Delete path
        }

        test "checkpoints every N steps" {
            let path = tempFile ()
            try
                let steps = Collections.Generic.List<int>()
                let onStep (s: TrainingStep) = if File.Exists path then steps.Add(Checkpoint.Read(path).Step)
                Training.Fit((fun _ -> build (fresh ())), ParamStore(), adam,
                             FitOptions(Steps = 7, CheckpointEvery = 3, OnStep = Action<TrainingStep>(onStep)), options) |> ignore
                Expect.isEmpty steps "no checkpoint path, no file"
                Training.Fit((fun _ -> build (fresh ())), ParamStore(), adam,
                             FitOptions(Steps = 7, CheckpointEvery = 3, CheckpointPath = path, Resume = false, OnStep = Action<TrainingStep>(onStep)), options) |> ignore
                Expect.sequenceEqual (Seq.distinct steps) [ 3; 6 ] "written after steps 3 and 6 (the callback runs before the save)"
                Expect.equal (Checkpoint.Read(path).Step) 7 "and at the end"
            finally
                File.Delete path
        }

        test "clipping bounds each update's gradient and reports the norm before clipping" {
            let theta0 = 0.0
            let m = model {
                let! theta = Model.Param("theta", fun () -> torch.tensor(theta0))
                let! _ = Model.Cost("c", (theta - 100.0).square())
                return () }
            let store = ParamStore()
            let norms = Collections.Generic.List<float>()
            let sgd (ps: seq<Modules.Parameter>) = torch.optim.SGD(ps, 1.0) :> torch.optim.Optimizer
            Training.Fit((fun _ -> m), store, sgd,
                         FitOptions(Steps = 3, ClipGradNorm = 0.5, OnStep = Action<TrainingStep>(fun s -> norms.Add s.GradNorm.Value))) |> ignore
            Expect.floatClose Accuracy.high (store.["theta"].item<float>()) 1.5 "three steps of length 0.5"
            Expect.floatClose Accuracy.high norms.[0] 200.0 "the norm before clipping: |2 (0 - 100)|"
            throwsMentioning [ "ClipGradNorm" ] (fun () ->
                Training.Fit((fun _ -> m), ParamStore(), sgd, FitOptions(ClipGradNorm = -1.0)) |> ignore)
        }

        test "a non-finite objective stops with the step's number and leaves the parameters finite" {
            let m t = model {
                let! theta = Model.Param("theta", fun () -> torch.tensor(0.5))
                let! _ = Model.Cost("c", if t = 3 then theta * Double.NaN else theta.square())
                return () }
            let store = ParamStore()
            throwsMentioning [ "step 3"; "not finite" ] (fun () ->
                Training.Fit(m, store, (fun ps -> torch.optim.SGD(ps, 0.1) :> torch.optim.Optimizer), FitOptions(Steps = 10)) |> ignore)
            Expect.floatClose Accuracy.high (store.["theta"].item<float>()) (0.5 * 0.8 ** 3.0) "three finite steps, then none"
        }

        test "any objective: Iwae.Build's bound is reported as its negative" {
            let guide = model {
                let! mu = Model.Param("mu", fun () -> torch.tensor(0.0))
                let! z = Model.Sample("z", Normal(mu, torch.tensor(1.0)))
                return z }
            let gen = model {
                let! z = Model.Sample("z", Normal(torch.tensor(0.0), torch.tensor(1.0)))
                let! _ = Model.Observe("x", Normal(z, torch.tensor(1.0)), torch.tensor(1.0))
                return () }
            let pair = Guided.Pair(guide, gen)
            let seen = Collections.Generic.List<float>()
            let objective (t: Tracing.Trace) =
                let o = Iwae.Build(t)
                seen.Add(o.Bound.item<float>())
                o :> IObjective
            let r = Training.Fit((fun _ -> pair), ParamStore(), adam, FitOptions(Steps = 5, Objective = Func<_, _>(objective)), RunOptions(Seed = 3UL, Particles = 8))
            Expect.sequenceEqual r.Values (seen |> Seq.map (fun b -> -b)) "Value = −bound at every step"
        }

        test "a file that is not a checkpoint is refused with its path" {
            let path = tempFile ()
            try
                File.WriteAllText(path, "not a checkpoint")
                throwsMentioning [ path ] (fun () -> Checkpoint.Read(path) |> ignore)
                throwsMentioning [ path ] (fun () ->
                    Training.Fit((fun _ -> build (fresh ())), ParamStore(), adam, FitOptions(Steps = 2, CheckpointPath = path)) |> ignore)
                File.WriteAllBytes(path, Array.sub (File.ReadAllBytes path) 0 3)
                throwsMentioning [ path ] (fun () -> Checkpoint.Read(path) |> ignore)
            finally
                File.Delete path
        }
        test "a checkpoint of another model or optimizer is refused with its path and the way out" {
            let path = tempFile ()
            let quadratic (n: int64) = model {
                let! w = Model.Param("w", fun () -> torch.zeros(n, dtype = torch.ScalarType.Float64))
                let! _ = Model.Cost("c", (w - 1.0).square().sum())
                return () }
            try
                Training.Fit((fun _ -> quadratic 3L), ParamStore(), adam, FitOptions(Steps = 3, CheckpointPath = path)) |> ignore
                throwsMentioning [ path; "Resume = false"; "'w'" ] (fun () ->
                    Training.Fit((fun _ -> quadratic 5L), ParamStore(), adam, FitOptions(Steps = 6, CheckpointPath = path)) |> ignore)
                let two = model {
                    let! w = Model.Param("w", fun () -> torch.zeros(3L, dtype = torch.ScalarType.Float64))
                    let! v = Model.Param("v", fun () -> torch.zeros(2L, dtype = torch.ScalarType.Float64))
                    let! _ = Model.Cost("c", (w - 1.0).square().sum() + v.square().sum())
                    return () }
                throwsMentioning [ path; "Resume = false" ] (fun () ->
                    Training.Fit((fun _ -> two), ParamStore(), adam, FitOptions(Steps = 6, CheckpointPath = path)) |> ignore)
                let fresh = Training.Fit((fun _ -> quadratic 5L), ParamStore(), adam, FitOptions(Steps = 2, CheckpointPath = path, Resume = false))
                Expect.equal (fresh.FirstStep, fresh.StepsDone) (0, 2) "Resume = false starts afresh and overwrites the file"
                Expect.equal (Checkpoint.Read(path).Step) 2 "overwritten"
            finally
                File.Delete path
        }

        test "an error in the run that creates the parameters is a TrainingStepException of the first step" {
            let bad = model {
                let! w = Model.Param("w", fun () -> torch.tensor(Double.NaN))
                let! z = Model.Sample("z", Normal(w, torch.tensor(1.0)))
                let! _ = Model.Cost("c", z.square())
                return () }
            let e = Expect.throwsC (fun () -> Training.Fit((fun _ -> bad), ParamStore(), adam, FitOptions(Steps = 2)) |> ignore) id
            Expect.isTrue (e :? TrainingStepException) (sprintf "a TrainingStepException, not %s" (e.GetType().Name))
            Expect.stringContains e.Message "step 0" "names the step"
            Expect.stringContains e.Message "'z'" "and the site"
        }

        test "Model.Module with a factory trains fresh weights in every store; a module object is shared by the stores" {
            let target = torch.tensor([| 3.0f |]).reshape(1L, 1L)
            let costOf (lin: torch.nn.Module<torch.Tensor, torch.Tensor>) = Model.Cost("c", (lin.call(torch.ones(1L, 1L)) - target).square().sum())
            let factory = model {
                let! lin = Model.Module("lin", fun () -> torch.nn.Linear(1L, 1L))
                let! _ = costOf lin
                return () }
            let trainOnce (m: Model<unit>) =
                torch.manual_seed(3L) |> ignore
                let store = ParamStore()
                store, Training.Fit((fun _ -> m), store, adam, FitOptions(Steps = 5))
            let s1, a = trainOnce factory
            let s2, b = trainOnce factory
            Expect.sequenceEqual a.Values b.Values "two stores, the same fresh start"
            Expect.isFalse (Object.ReferenceEquals(s1.Modules.["lin"], s2.Modules.["lin"])) "two modules"
            let net = torch.nn.Linear(1L, 1L)
            let shared = model {
                let! lin = Model.Module("lin", net)
                let! _ = costOf lin
                return () }
            let t1, c = trainOnce shared
            let t2, d = trainOnce shared
            Expect.isTrue (Object.ReferenceEquals(t1.Modules.["lin"], t2.Modules.["lin"])) "one module object in both stores"
            Expect.notEqual d.Values.[0] c.Values.[0] "the second run starts from the first run's weights (documented)"
        }
    ]
