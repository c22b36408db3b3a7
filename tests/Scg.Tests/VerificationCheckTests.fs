/// STATISTICAL tests of Scg.Verification.Checks.EstimatorCheck: it accepts correct estimators (score function,
/// pathwise, leave-one-out, total cost) against the exact gradient of Scg.Verification.Exact, and flags deliberately
/// broken ones — the score terms dropped, a baseline that reads the site's own value, a cost-to-go that leaves out a
/// downstream cost — and compares configurations by two-sample z-tests when the model is too large for an exact value.
///
/// False alarms. Every check states its rate, Bonferroni over its parameter elements and configurations inside the
/// report: the acceptance of the three correct configurations (1e-4), the calibration over 10 seeds (10 × 1e-5), the
/// two-sample comparison (1e-4) and the docs example (1e-3; it runs once with a fixed seed): at most 1.3e-3 for this
/// file (tests/README.md). The broken estimators' biases are 8–60 standard errors at the chosen N (the messages print
/// the z-scores), so the flagging tests miss with negligible probability. All seeds are fixed.
module Scg.Tests.VerificationCheckTests

open System
open System.Collections.Generic
open Expecto
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Estimators
open Scg.Tracing
open Scg.Verification
open Scg.Verification.Checks

type Tensor = TorchSharp.torch.Tensor

let private model = ModelBuilder()
let private f64 (x: float) = torch.tensor(x, dtype = torch.ScalarType.Float64)
let private leaf (x: float) = torch.tensor(x, dtype = torch.ScalarType.Float64, requires_grad = true)
let private named (xs: (string * Tensor) list) = xs |> List.map (fun (n, t) -> KeyValuePair(n, t)) |> ResizeArray :> IReadOnlyList<_>

/// z ~ Bern(σ(t0)) (score function); x ~ N(t1 + z, 0.8) (pathwise); c1 = 2(z − 0.3) + x²;
/// y_i ~ Bern(σ(t1 + z/2 + b_i)) in plate i[2] (score function); c2_i = 1.5 y_i (1 + 3z) in plate i reopened.
let private t0, t1 = leaf 0.3, leaf -0.4
let private parameters = named [ "t0", t0; "t1", t1 ]
let private checked' = model {
    let! z = Model.Sample("z", Bernoulli.FromLogits(t0))
    let! x = Model.Sample("x", Normal(t1 + z, f64 0.8))
    let! _ = Model.Cost("c1", (z - 0.3) * 2.0 + x.square())
    let bias = torch.tensor([| 0.2; -0.3 |], dtype = torch.ScalarType.Float64)
    let! y = Model.Plate("i", 2L, Model.Sample("y", Bernoulli.FromLogits(t1 + z * 0.5 + bias)))
    let! _ = Model.Plate("i", 2L, Model.Cost("c2", y * (1.0 + z * 3.0) * 1.5))
    return () }

let private options = CheckOptions(Parameters = parameters, SiteDiagnostics = false)
let private costs (trace: Trace) = Exact.TotalCost trace

/// A cost-to-go that leaves out c2: z is credited with c1 only (runs without particles).
let private missingCost (trace: Trace) =
    let c1 = trace.Cost("c1").Value
    let c2 = trace.Cost("c2").Value
    costs trace + trace.Sample("z").LogProb.sum() * c1.sum().detach() + (trace.Sample("y").LogProb * c2.detach()).sum()

let private describe (r: CheckReport) = r.ToString()

[<Tests>]
let tests =
    testList "verification: estimator checks" [
        test "accepts correct estimators against the exact gradient (rate 1e-4)" {
            let configurations = [|
                EstimatorConfiguration("score function + pathwise", Particles = 10, MaxPlateNesting = 1)
                EstimatorConfiguration("leave-one-out", Particles = 10, MaxPlateNesting = 1, Surrogate = SurrogateOptions(Baseline = Baseline.LeaveOneOut))
                EstimatorConfiguration("total cost", Particles = 10, MaxPlateNesting = 1, Surrogate = SurrogateOptions(TotalCost = true)) |]
            let report = EstimatorCheck.Run(checked', ParamStore(), configurations, 300, 11UL, 1e-4, options)
            Expect.isTrue report.IsExact "exact reference"
            Expect.isTrue report.Passed (describe report)
            Expect.equal report.Configurations.Length 3 "three configurations"
            Expect.floatClose Accuracy.medium report.Bound (StudentT.BonferroniBound(1e-4, 6, 299.0)) "Bonferroni over 2 elements × 3 configurations, t with N − 1 = 299"
            let row = report.["leave-one-out"].Parameters.[0]
            Expect.equal row.Label "t0" "label"
            Expect.isGreaterThan row.Variance 0.0 "variance"
            Expect.floatClose Accuracy.medium row.SignalToNoise (abs row.Mean / sqrt row.Variance) "SNR"
        }
        test "flags the score terms dropped" {
            let broken = EstimatorConfiguration("no score terms", Particles = 10, MaxPlateNesting = 1, Objective = Func<_, _>(fun tr -> costs tr / 10.0))
            let report = EstimatorCheck.Run(checked', ParamStore(), broken, 300, 12UL, 1e-4, options)
            Expect.isFalse report.Passed (describe report)
            Expect.isFalse report.Configurations.[0].Parameters.[0].Passed "t0 (reached only through score terms) fails"
        }
        test "flags a baseline that reads the site's own value" {
            let reading = SiteEstimator.ScoreFunction.WithBaseline(Baseline.Custom(fun site _ -> site.Value * 3.0))
            let broken = EstimatorConfiguration("baseline = 3 z", Particles = 10, MaxPlateNesting = 1).WithSite("z", reading)
            let report = EstimatorCheck.Run(checked', ParamStore(), broken, 300, 13UL, 1e-4, options)
            Expect.isFalse report.Configurations.[0].Parameters.[0].Passed (describe report)
        }
        test "flags a cost-to-go that leaves out a downstream cost" {
            let broken = EstimatorConfiguration("z credited with c1 only", Objective = Func<_, _> missingCost)
            let correct = EstimatorConfiguration("the same by hand, with c2", Objective = Func<_, _>(fun tr ->
                let c = tr.Cost("c1").Value.sum() + tr.Cost("c2").Value.sum()
                costs tr + tr.Sample("z").LogProb.sum() * c.detach() + (tr.Sample("y").LogProb * tr.Cost("c2").Value.detach()).sum()))
            let report = EstimatorCheck.Run(checked', ParamStore(), [| broken; correct |], 3000, 14UL, 1e-4, options)
            Expect.isFalse report.["z credited with c1 only"].Passed (describe report)
            Expect.isTrue report.["the same by hand, with c2"].Passed (describe report)
        }
        test "calibration: a correct estimator passes on 10 seeds (rate 1e-5 each)" {
            let theta = leaf 0.2
            let m = model {
                let! b = Model.Sample("b", Bernoulli.FromLogits(theta))
                let! _ = Model.Cost("c", (b - 0.2).square() * 3.0)
                return () }
            let opts = CheckOptions(Parameters = named [ "theta", theta ], SiteDiagnostics = false)
            for seed in 1UL .. 10UL do
                let report = EstimatorCheck.Run(m, ParamStore(), EstimatorConfiguration("score function", Particles = 20), 50, seed * 101UL, 1e-5, opts)
                Expect.isTrue report.Passed (describe report)
        }
        test "site diagnostics: each score-function site's share of the variance, in the table" {
            let report = EstimatorCheck.Run(checked', ParamStore(), EstimatorConfiguration("default", Particles = 10, MaxPlateNesting = 1), 200, 15UL, 1e-4,
                                            CheckOptions(Parameters = parameters))
            let sites = report.Configurations.[0].Sites
            Expect.sequenceEqual (sites |> Seq.map (fun s -> s.Site)) [ "z"; "y" ] "score-function sites, in order"
            for s in sites do
                Expect.isNull s.Note (sprintf "site %s enumerated" s.Site)
                Expect.isTrue (s.Share > -1.0 && s.Share <= 1.0) (sprintf "share of %s: %g" s.Site s.Share)
            Expect.isGreaterThan sites.[0].Share 0.3 "enumerating z removes much of the variance"
            let text = describe report
            for fragment in [ "Reference: the exact gradient"; "Bonferroni"; "PASSED"; "std error"; "SNR"; "Site variance shares"; "Enumerate" ] do
                Expect.stringContains text fragment "table"
        }
        test "too large for an exact value: two-sample comparison, said in the report; one configuration is refused" {
            let mu = leaf 0.4
            let big = model {
                let! x = Model.Plate("i", 5L, Model.Sample("x", Normal(mu, f64 1.0)))
                let! _ = Model.Cost("c", x.square().sum(-1L, true))
                return () }
            let opts = CheckOptions(Parameters = named [ "mu", mu ], SiteDiagnostics = false)
            let pathwise = EstimatorConfiguration("pathwise", Particles = 50, MaxPlateNesting = 1)
            let sf = EstimatorOverrides.None.For("x", SiteEstimator.ScoreFunction)
            let score = EstimatorConfiguration("score function", Particles = 50, MaxPlateNesting = 1, Estimators = sf)
            let noScore = EstimatorConfiguration("score function, no score terms", Particles = 50, MaxPlateNesting = 1, Estimators = sf,
                                                 Objective = Func<_, _>(fun tr -> costs tr / 50.0))
            let report = EstimatorCheck.Run(big, ParamStore(), [| pathwise; score |], 200, 16UL, 1e-4, opts)
            Expect.isFalse report.IsExact "two-sample"
            Expect.stringContains report.Reference "two-sample z-tests: no exact gradient" "says so"
            Expect.stringContains report.Reference "5 continuous dimensions" "and why"
            Expect.isTrue report.Passed (describe report)
            let flagged = EstimatorCheck.Compare(big, ParamStore(), [| pathwise; noScore |], 200, 17UL, 1e-4, opts)
            Expect.isFalse flagged.Passed (describe flagged)
            let refused =
                try
                    EstimatorCheck.Run(big, ParamStore(), pathwise, 10, 1UL, 1e-3, opts) |> ignore
                    "no exception"
                with :? InvalidOperationException as e -> e.Message
            Expect.stringContains refused "Pass two or more configurations" "a single configuration without an exact value"
        }
        test "module weights are parameters too; a model without any is refused rather than passed" {
            let withModule = model {
                let! lin = Model.Module("lin", fun () -> torch.nn.Linear(2L, 1L, dtype = torch.ScalarType.Float64))
                let! y = Model.Sample("y", Bernoulli.FromLogits(lin.forward(torch.tensor([| 1.0; -1.0 |], dtype = torch.ScalarType.Float64)).squeeze()))
                let! _ = Model.Cost("c", y * 3.0)
                return () }
            let report = EstimatorCheck.Run(withModule, ParamStore(), EstimatorConfiguration("score function", Particles = 20), 50, 21UL, 1e-3,
                                            CheckOptions(SiteDiagnostics = false))
            Expect.sequenceEqual [ for p in report.Configurations.[0].Parameters -> p.Label ] [ "lin.weight[0, 0]"; "lin.weight[0, 1]"; "lin.bias" ]
                "the module's weight (labelled by row and column) and bias"
            Expect.isTrue report.Passed (describe report)
            let noParameters = model {
                let! y = Model.Sample("y", Bernoulli.FromLogits(f64 0.3))
                let! _ = Model.Cost("c", y * 3.0)
                return () }
            Expect.throwsT<ArgumentException> (fun () -> EstimatorCheck.Run(noParameters, ParamStore(), EstimatorConfiguration.Default, 10, 1UL) |> ignore) "refused"
        }
        test "bad arguments and configurations are named before anything costly runs" {
            let message (f: unit -> unit) =
                try
                    f ()
                    "no exception"
                with e -> e.Message
            let run (conf: EstimatorConfiguration) rate () = EstimatorCheck.Run(checked', ParamStore(), conf, 10, 1UL, rate, options) |> ignore
            Expect.stringContains (message (run EstimatorConfiguration.Default 1.5)) "strictly between 0 and 1 (got 1.5)" "rate above 1"
            Expect.stringContains (message (run EstimatorConfiguration.Default 0.0)) "falseAlarmRate" "rate 0 names the argument"
            let typo = EstimatorConfiguration("typo").WithSite("nope", SiteEstimator.Enumerate)
            let m = message (run typo 1e-3)
            Expect.stringContains m "Configuration 'typo' cannot run" "names the configuration"
            Expect.stringContains m "'nope'" "and the site"
            let loo = EstimatorConfiguration("loo without particles", Surrogate = SurrogateOptions(Baseline = Baseline.LeaveOneOut))
            Expect.stringContains (message (run loo 1e-3)) "Configuration 'loo without particles' cannot run" "a baseline that cannot work"
            let report = EstimatorCheck.Run(checked', ParamStore(), EstimatorConfiguration("default", Particles = 10, MaxPlateNesting = 1), 20, 1UL, 1e-3, options)
            Expect.throwsT<KeyNotFoundException> (fun () -> report.["other"] |> ignore) "unknown name"
        }
        test "an exact estimator (every site enumerated) passes: a rounding-size difference is no bias" {
            let th, ph = leaf 0.3, leaf -0.4
            let m = model {
                let! y = Model.Sample("y", Bernoulli.FromLogits(th))
                let! x = Model.Sample("x", Bernoulli.FromLogits(ph + y * 2.0 - 1.0))
                let! _ = Model.Cost("c", (x + y - 0.4).square() * 3.0 + x * ph)
                return () }
            let enumerated = EstimatorConfiguration("both enumerated").WithSite("y", SiteEstimator.Enumerate).WithSite("x", SiteEstimator.Enumerate)
            let report = EstimatorCheck.Run(m, ParamStore(), enumerated, 20, 24UL, 1e-4,
                                            CheckOptions(Parameters = named [ "th", th; "ph", ph ], SiteDiagnostics = false))
            Expect.isTrue report.Passed (describe report)
            for p in report.Configurations.[0].Parameters do
                Expect.equal p.Z 0.0 (sprintf "%s: z = 0 (mean %.17g, exact %.17g, se %g)" p.Label p.Mean p.Reference p.StandardError)
            // and a real difference is still one: the same estimates against a shifted reference fail
            let shifted = [| for p in report.Configurations.[0].Parameters -> p.Reference + 1e-6 |]
            let off = EstimatorCheck.Run(m, ParamStore(), enumerated, 20, 24UL, 1e-4,
                                         CheckOptions(Parameters = named [ "th", th; "ph", ph ], SiteDiagnostics = false, ExactGradient = shifted))
            Expect.isFalse off.Passed (describe off)
        }
        test "site diagnostics swap a reparameterisable site for pathwise, others for enumeration; a hand-made objective gets none" {
            let mu = leaf 0.2
            let m = model {
                let! z = Model.Sample("z", Normal(mu, f64 1.0), SiteEstimator.ScoreFunction)
                let! b = Model.Sample("b", Bernoulli.FromLogits(mu))
                let! _ = Model.Cost("c", (z - 1.0).square() + b)
                return () }
            let opts = CheckOptions(Parameters = named [ "mu", mu ])
            let report = EstimatorCheck.Run(m, ParamStore(), EstimatorConfiguration("score function", Particles = 10), 100, 22UL, 1e-4, opts)
            Expect.sequenceEqual [ for s in report.Configurations.[0].Sites -> s.Site, s.SwappedFor ] [ "z", "Pathwise"; "b", "Enumerate" ] "swaps"
            for s in report.Configurations.[0].Sites do Expect.isNull s.Note (sprintf "%s swapped without a refusal" s.Site)
            Expect.isGreaterThan report.Configurations.[0].Sites.[0].Share 0.5 "pathwise z removes most of the variance"
            let own = EstimatorConfiguration("by hand", Particles = 10, Objective = Func<_, _>(fun tr -> Surrogate.Build(tr).Surrogate))
            let mine = EstimatorCheck.Run(m, ParamStore(), own, 50, 23UL, 1e-4, opts)
            Expect.isTrue mine.Configurations.[0].Sites.IsEmpty "no diagnostics for a hand-made objective"
        }
        test "the docs example (C#) passes and prints its report (rate 1e-3)" {
            let report = Scg.Tests.CSharp.VerifyExample.Check()
            Expect.isTrue report.Passed (describe report)
            Expect.equal report.Configurations.[0].Parameters.[0].Label "theta" "the store's parameter"
        }
    ]
