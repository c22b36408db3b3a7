/// The interpreters: vectorised particles, replay, printing, parameters and training.
module Scg.Tests.InterpreterTests

open System
open Expecto
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Estimators
open Scg.Tracing
open Scg.FSharp

let t (x: float) = torch.tensor(x, dtype = torch.ScalarType.Float64)

let gaussCost =
    model {
        let! z = Model.Sample("z", Normal(t 1.0, t 2.0))
        let! _ = Model.Cost("c", z.square())
        return z }

[<Tests>]
let tests =
    testList "interpreters" [
        test "K particles run as one vectorised pass; the cost is averaged over them" {
            let r = Interpreter.Sample(gaussCost, RunOptions(Seed = 4UL, Particles = 1000))
            Expect.sequenceEqual r.Value.shape [| 1000L |] "one value per particle"
            Expect.equal r.Trace.ParticleCount 1000L "particle count"
            let s = Surrogate.Build(r.Trace)
            let mean = r.Value.square().mean().item<float>()
            Expect.floatClose Accuracy.high (s.Cost.item<float>()) mean "cost = mean over particles"
            // E[z^2] = 1 + 4 = 5; the standard error of the mean of z^2 over 1000 draws is about 0.24.
            Expect.isLessThan (abs (mean - 5.0)) (5.0 * 0.24) "close to E[z^2] = 5 (5 standard errors)"
        }

        test "particles go to the left of the model's own plates (nesting measured by a dry run)" {
            let m = Model.Plate("data", 3L, Model.Sample("z", Normal(t 0.0, t 1.0)))
            let r = Interpreter.Sample(m, RunOptions(Seed = 1UL, Particles = 4))
            Expect.sequenceEqual r.Value.shape [| 4L; 3L |] "[particles, data]"
            let z = r.Trace.["z"]
            Expect.equal [ for p in z.Plates -> p.Name, p.Dim ] [ "particles", -2; "data", -1 ] "plates and dims"
        }

        test "with particles, each particle's score term uses its own cost-to-go" {
            let m = model {
                let! b = Model.Sample("b", Bernoulli.FromProbs(t 0.5))
                let! _ = Model.Cost("c", b * 3.0)
                return b }
            let r = Interpreter.Sample(m, RunOptions(Seed = 2UL, Particles = 8))
            let q = (CostToGo.Compute r.Trace).["b"]
            Expect.equal (q.data<float>().ToArray()) ((r.Value * 3.0).data<float>().ToArray()) "Q_b[k] = 3 b[k]"
        }

        test "replay reproduces the values and log-probabilities, and adds no score term" {
            let m = model {
                let! b = Model.Sample("b", Bernoulli.FromProbs(t 0.3))
                let! z = Model.Sample("z", Normal(b, t 1.0))
                let! _ = Model.Cost("c", z.square() + b)
                return z }
            let first = Interpreter.Sample(m, RunOptions(Seed = 3UL))
            let replayed = Interpreter.Replay(m, first.Trace)
            for name in [ "b"; "z" ] do
                let a, b = first.Trace.[name] :?> SampleNode, replayed.Trace.[name] :?> SampleNode
                Expect.equal (b.Value.item<float>()) (a.Value.item<float>()) (name + " value")
                Expect.equal (b.LogProb.item<float>()) (a.LogProb.item<float>()) (name + " log p")
                Expect.isTrue b.IsReplayed (name + " is marked replayed")
                Expect.isFalse b.IsScoreFunction (name + " gets no score term")
        }

        test "traces print as text, Mermaid and DOT" {
            let m = model {
                let! y = Model.Sample("y", Bernoulli.FromProbs(t 0.3))
                let! _ = Model.Plate("data", 2L, Model.Observe("x", Normal(y, t 1.0), torch.zeros(2L, dtype = torch.ScalarType.Float64)))
                let! _ = Model.Cost("c", y)
                return () }
            let tr = (Interpreter.Sample(m, RunOptions(Seed = 1UL))).Trace
            let text = TraceFormat.ToText tr
            Expect.stringContains text "sample y ~ Bernoulli" "text names the site and family"
            Expect.stringContains text "data[2]@-1" "text shows the plate"
            let dot = TraceFormat.ToDot tr
            Expect.stringContains dot "n0 -> n1" "dot has the edge y -> x"
            Expect.stringContains dot "n0 -> n2" "dot has the edge y -> c"
            Expect.stringContains dot "style=dashed" "score-function sites are dashed"
            let mermaid = TraceFormat.ToMermaid tr
            Expect.stringStarts mermaid "flowchart TD" "mermaid header"
            Expect.stringContains mermaid "n0 --> n2" "mermaid edge"
        }

        test "parameters are created once, survive dispose scopes, and train with a TorchSharp optimizer" {
            let store = ParamStore()
            let m = model {
                let! mu = Model.Param("mu", fun () -> t 3.0)
                let! z = Model.Sample("z", Normal(mu, t 0.5))
                let! _ = Model.Cost("c", (z + 1.0).square())
                return () }
            Interpreter.Sample(m, RunOptions(Params = store)) |> ignore // creates "mu"
            let opt = torch.optim.Adam(store.Parameters(), lr = 0.05)
            use gen = new torch.Generator(7UL, torch.CPU)
            for _ in 1 .. 300 do
                use scope = torch.NewDisposeScope()
                opt.zero_grad()
                let r = Interpreter.Sample(m, RunOptions(Params = store, Generator = gen, Particles = 16, MaxPlateNesting = 0))
                Surrogate.Build(r.Trace).Surrogate.backward()
                opt.step() |> ignore
            let mu = store.["mu"].item<float>()
            Expect.isLessThan (abs (mu + 1.0)) 0.2 (sprintf "mu moves from 3 to the minimiser -1 (got %.3f)" mu)
            Expect.equal (Seq.length (store.Parameters())) 1 "one parameter"
        }
    
        test "Sequence runs models in order, each downstream of the earlier ones, and collects their values" {
            let steps = [ for i in 0 .. 3 -> Model.Sample(sprintf "s%d" i, Normal(t (float i), t 0.001)) ]
            let r = Interpreter.Sample(Scg.Linq.ModelQuery.Sequence(steps), RunOptions(Seed = 3UL))
            let means = [ for v in r.Value -> round (v.item<float>()) ]
            Expect.equal means [ 0.0; 1.0; 2.0; 3.0 ] "values in order"
            let s1 = r.Trace.["s1"] :?> SampleNode
            Expect.isTrue (r.Trace.IsDownstream(s1, r.Trace.["s3"])) "a later step is downstream of an earlier one"
            Expect.isFalse (r.Trace.IsDownstream(s1, r.Trace.["s0"])) "an earlier step is not downstream of a later one"
        }

        test "Training.Train steps an optimizer, reports every step, and lowers the cost" {
            let store = ParamStore()
            let m = model {
                let! mu = Model.Param("mu", fun () -> t 2.0)
                let! b = Model.Sample("b", Bernoulli.FromLogits(mu))
                let! _ = Model.Cost("c", b * 3.0 - 1.0)
                return () }
            Interpreter.Sample(m, RunOptions(Params = store)) |> ignore
            let opt = torch.optim.SGD(store.Parameters(), 0.1)
            let reported = ResizeArray<Scg.Linq.TrainingStep>()
            let progress = { new IProgress<Scg.Linq.TrainingStep> with member _.Report s = reported.Add s }
            let costs =
                Scg.Linq.Training.Train((fun _ -> m), opt, 200,
                    RunOptions(Params = store, Seed = 5UL, Particles = 64, MaxPlateNesting = 0), progress = progress)
            Expect.equal costs.Count 200 "one cost per step"
            Expect.equal [ for s in reported -> s.Step ] [ 0 .. 199 ] "progress for every step, in order"
            // E[c] = 3 sigmoid(mu) - 1 falls as mu decreases; sigmoid(2) = 0.88 at the start
            let mu = store.["mu"].item<float>()
            Expect.isLessThan mu 0.0 (sprintf "mu decreased from 2 (now %.3f)" mu)
            Expect.isLessThan (Seq.averageBy id (Seq.skip 180 costs)) (Seq.averageBy id (Seq.take 20 costs)) "the cost fell"
        }
    ]

