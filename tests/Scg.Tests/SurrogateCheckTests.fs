/// What Surrogate.Build refuses (baselines that would scale a score term, non-finite costs and baselines) and
/// the surrogate it returns when nothing in the trace has a gradient.
module Scg.Tests.SurrogateCheckTests

open System
open Expecto
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Estimators

let private model = ModelBuilder()
let private c (x: float) = torch.tensor(x, dtype = torch.ScalarType.Float64)
let private leaf (x: float) = torch.tensor(x, dtype = torch.ScalarType.Float64, requires_grad = true)
let private sample m = Interpreter.Sample(m, RunOptions(Seed = 3UL)).Trace
let private withBaseline (f: torch.Tensor -> torch.Tensor) = SurrogateOptions(Baseline = Baseline.Custom(fun _ q -> f q))

let private throwsMentioning = ErrorTests.throwsMentioning

[<Tests>]
let tests =
    testList "surrogate checks" [
        test "a baseline that would enlarge the site's log-probability is refused, naming the site" {
            let theta = leaf 0.2
            let tr = sample (model {
                let! y = Model.Sample("y", Bernoulli.FromLogits(theta))
                let! _ = Model.Cost("c", y * 2.0)
                return () })
            // [5] on a scalar site used to multiply the score term by 5.
            throwsMentioning [ "'y'"; "baseline"; "[5]" ] (fun () ->
                Surrogate.Build(tr, withBaseline (fun _ -> torch.ones(5L, dtype = torch.ScalarType.Float64))) |> ignore)
            // A scalar baseline is fine.
            Surrogate.Build(tr, withBaseline (fun _ -> c 0.5)) |> ignore
        }

        test "in a plate, a baseline per element or a scalar is accepted; one of another size is refused" {
            let theta = leaf 0.2
            let tr = sample (Model.Plate("data", 4L, model {
                let! y = Model.Sample("y", Bernoulli.FromLogits(theta))
                let! _ = Model.Cost("c", y * 2.0)
                return () }))
            let perElement = Surrogate.Build(tr, withBaseline (fun q -> torch.zeros_like q))
            let none = Surrogate.Build(tr, SurrogateOptions(Vectorize = false))
            Expect.floatClose Accuracy.veryHigh (perElement.Surrogate.item<float>()) (none.Surrogate.item<float>()) "a zero baseline changes nothing"
            throwsMentioning [ "'y'"; "[3]"; "[4]" ] (fun () ->
                Surrogate.Build(tr, withBaseline (fun _ -> torch.zeros(3L, dtype = torch.ScalarType.Float64))) |> ignore)
        }

        test "a NaN baseline is refused under validation" {
            let theta = leaf 0.2
            let tr = sample (model { let! y = Model.Sample("y", Bernoulli.FromLogits(theta)) in let! _ = Model.Cost("c", y) in return () })
            throwsMentioning [ "'y'"; "baseline"; "not finite" ] (fun () -> Surrogate.Build(tr, withBaseline (fun _ -> c nan)) |> ignore)
        }

        test "a NaN or infinite cost is refused under validation, naming the cost; accepted without validation" {
            let theta = leaf 0.2
            for bad in [ nan; infinity ] do
                let tr = sample (model {
                    let! y = Model.Sample("y", Bernoulli.FromLogits(theta))
                    let! _ = Model.Cost("fine", y)
                    let! _ = Model.Plate("p", 2L, Model.Cost("broken", torch.tensor([| 1.0; bad |], dtype = torch.ScalarType.Float64) * theta))
                    return () })
                throwsMentioning [ "Cost 'broken'"; "not finite" ] (fun () -> Surrogate.Build(tr) |> ignore)
                throwsMentioning [ "Cost 'broken'" ] (fun () -> Surrogate.Build(tr, SurrogateOptions(Vectorize = false)) |> ignore)
                let s = Surrogate.Build(tr, SurrogateOptions(ValidateArguments = false))
                Expect.isFalse (s.Surrogate.isfinite().item<bool>()) "without validation the value passes through"
                // by default the surrogate checks as the run did
                let unchecked = Interpreter.Sample(Model.Plate("p", 2L, Model.Cost("broken", torch.tensor([| 1.0; bad |], dtype = torch.ScalarType.Float64) * theta)),
                                                   RunOptions(Seed = 3UL, ValidateArguments = false)).Trace
                Expect.isFalse unchecked.Validated "the run did not validate"
                Expect.isFalse (Surrogate.Build(unchecked).Surrogate.isfinite().item<bool>()) "nor does its surrogate, by default"
        }

        test "a trace with nothing to differentiate gives a surrogate that backward and autograd.grad accept" {
            let theta = leaf 0.7
            // No cost, no parameter: the surrogate is a constant.
            let tr = sample (model { let! _ = Model.Sample("z", Normal(c 0.0, c 1.0)) in return () })
            let s = Surrogate.Build(tr)
            Expect.isFalse s.HasGradient "nothing depends on a parameter"
            s.Surrogate.backward()
            let g = torch.autograd.grad([| Surrogate.Build(tr).Surrogate |], [| theta |], allow_unused = true)
            Expect.isTrue (isNull g.[0] || g.[0].IsInvalid || g.[0].item<float>() = 0.0) "no gradient reaches theta"
            Expect.equal (Surrogate.Build(tr).Cost.item<float>()) 0.0 "the cost is 0"
            // With a parameter, HasGradient is true.
            let tr2 = sample (model { let! y = Model.Sample("y", Bernoulli.FromLogits(theta)) in let! _ = Model.Cost("c", y) in return () })
            Expect.isTrue (Surrogate.Build(tr2).HasGradient) "the score term reaches theta"
        }
    ]
