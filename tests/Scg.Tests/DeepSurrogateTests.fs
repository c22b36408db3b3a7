/// The surrogate of traces with deeply nested independent products (recursion through Zip): built without
/// growing the call stack, by both constructions, and crediting every site exactly as the credit rule says.
module Scg.Tests.DeepSurrogateTests

open System.Threading.Tasks
open Expecto
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Estimators
open Scg.Tracing

let private f64 = torch.ScalarType.Float64

/// m(n) = Zip(s_n ~ Bernoulli(σ θ) then cost c_n = s_n, m(n − 1)) then cost d_n = 1. Program order:
/// s_N c_N s_{N−1} c_{N−1} … s_1 c_1 d_1 … d_N. Site s_n is credited with c_n (its branch) and d_n … d_N (after
/// the products around it), never with another level's c: Q(s_n) = s_n + N − n + 1.
let rec private levels (theta: torch.Tensor) (n: int) : Model<int> =
    if n = 0 then Model.Return 0
    else
        let left = Model.Sample(sprintf "s%d" n, Bernoulli.FromLogits(theta)).Bind(fun s -> Model.Cost(sprintf "c%d" n, s))
        Model.Zip(left, Model.Defer(fun () -> levels theta (n - 1)))
            .Bind(fun _ -> Model.Cost(sprintf "d%d" n, torch.tensor(1.0, dtype = f64)))
            .Map(fun _ -> n)

let private check (depth: int) () =
    let theta = torch.tensor(0.2, dtype = f64, requires_grad = true)
    use scope = torch.NewDisposeScope()
    let trace = Interpreter.Sample(levels theta depth, RunOptions(Seed = 5UL, ValidateArguments = false)).Trace
    let sites = trace.Samples |> Array.ofSeq
    Expect.equal sites.Length depth "one site per level"
    // The score terms by hand: Σ_n log p(s_n) · (s_n + N − n + 1), with n read from the site's name.
    let credit = sites |> Array.map (fun s -> float (depth - int (s.Name.Substring 1) + 1))
    let lps = torch.stack(sites |> Array.map (fun s -> s.LogProb))
    let values = torch.stack(sites |> Array.map (fun s -> s.Value)).detach()
    let expected = Stats.gradOf ((lps * (values + torch.tensor(credit, dtype = f64))).sum()) [ theta ]
    for vectorize in [ true; false ] do
        let got = Stats.gradOf (Surrogate.Build(trace, SurrogateOptions(Vectorize = vectorize)).Surrogate) [ theta ]
        Expect.floatClose { absolute = 1e-6; relative = 1e-9 } got.[0] expected.[0] (sprintf "vectorize %b" vectorize)
    let q = CostToGo.Compute trace
    for s in sites |> Array.truncate 50 do
        let n = int (s.Name.Substring 1)
        Expect.equal (q.[s.Name].item<float>()) (s.Value.item<float>() + float (depth - n + 1)) (sprintf "Q(%s)" s.Name)

[<Tests>]
let tests =
    testList "deep products" [
        testCase "a surrogate over 30,000 nested products credits each site exactly (thread-pool thread)" <| fun () ->
            Task.Run(check 30_000).Wait()
        testCase "the same over 50 nested products" (check 50)
    ]
