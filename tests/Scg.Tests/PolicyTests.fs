/// Policy search (issue 11, scg-math.md §2 and §6): rollouts as models, PolicyGradient (discounted cost-to-go,
/// value baseline, GAE critic), CartPole.
///
/// The small MDP: states {0, 1}, actions {0, 1}, horizon 3, s0 ~ [0.6, 0.4], random transitions (sample sites
/// "s1" … "s3"), rewards R[s, a], and the episode ends after action 1 in state 1, so episodes have different lengths
/// and the rollout's masks matter. Its exact objective J_γ(θ) = E[Σ_t γ^t c_t] is a sum over all 64 trajectories
/// (s0, a0, s1, a1, s2, a2), differentiated by autograd: the reference gradient.
///
/// STATISTICAL tests. Each z-tested configuration draws 100 runs of 256 environments (fixed seeds) and compares the mean
/// gradient (4 coordinates) with the exact one: |z| < Stats.zBound = 5, 2.5e-6 two-sided per coordinate under the
/// null with N = 100 estimates (Student's t). 8 configurations must pass (29 coordinates, one of them the pathwise case's μ), so this file's false-alarm rate
/// is below 29 × 2.5e-6 < 1e-4
/// (Bonferroni). The broken estimators (state discount dropped with γ = 0.5; a baseline that reads the action; a
/// one-step critic that is not exact) must be rejected with |z| > 5: their biases are many standard errors (the
/// messages print the |z| seen), and the seeds are fixed, so a commit always passes or always fails.
module Scg.Tests.PolicyTests

open System
open System.Threading.Tasks
open Expecto
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Estimators
open Scg.Policy

type Tensor = TorchSharp.torch.Tensor
type ScalarType = TorchSharp.torch.ScalarType

let private f64s (xs: float[]) = torch.tensor(xs, dtype = ScalarType.Float64)

// ---------------------------------------------------------------------------------------------------------
// The MDP

let private p0 = [| 0.6; 0.4 |]
/// trans.[s].[a] = P(s' | s, a)
let private trans = [| [| [| 0.7; 0.3 |]; [| 0.2; 0.8 |] |]; [| [| 0.5; 0.5 |]; [| 0.9; 0.1 |] |] |]
/// rewards.[s].[a]
let private rewards = [| [| 1.0; -0.5 |]; [| 2.0; 0.3 |] |]
let private ends s a = s = 1 && a = 1

let private oneHot (s: Tensor) = torch.nn.functional.one_hot(s, 2L).to_type(ScalarType.Float64)

/// N copies of the MDP as a batched environment: its transitions are sample sites "s{t+1}". Without `terminates`,
/// episodes never end (for long rollouts).
type Mdp(n: int64, terminates: bool) =
    let transTable = f64s (Array.concat [ for s in 0..1 do for a in 0..1 -> trans.[s].[a] ]) |> fun t -> t.reshape(4L, 2L)
    let rewardTable = f64s [| for s in 0..1 do for a in 0..1 -> rewards.[s].[a] |]
    new(n) = Mdp(n, true)
    interface IBatchedEnvironment with
        member _.Count = n
        member _.Reset() =
            Model.Map(Model.Sample("s0", Categorical.FromProbs(f64s p0)), fun s ->
                EnvironmentStep(s, oneHot s, torch.zeros(n, dtype = ScalarType.Float64), torch.zeros(n, dtype = ScalarType.Bool)))
        member _.Step(prev, a, t) =
            let s = prev.State
            let idx = s * 2L + a
            let r = rewardTable.index_select(0L, idx)
            let isDone = if terminates then s.eq(torch.tensor 1L).logical_and(a.eq(torch.tensor 1L)) else torch.zeros(n, dtype = ScalarType.Bool)
            Model.Map(Model.Sample(sprintf "s%d" (t + 1), Categorical.FromProbs(transTable.index_select(0L, idx))), fun s2 ->
                EnvironmentStep(s2, oneHot s2, r, isDone))

let private horizon = 3

/// The policy π(a | s) = softmax(θ[s, ·]).
let private policyOf (theta: Tensor) =
    Func<Tensor, int, Model<Distribution>>(fun obs _ -> Model.Return(Categorical.FromLogits(obs.matmul(theta)) :> Distribution))

let private rollout (theta: Tensor) n = PolicyRollout.Model(Mdp(n), policyOf theta, horizon)

/// J_γ(θ) = Σ over all trajectories of their probability times Σ_t γ^t c_t, costs zero after the episode's end.
let private exactObjective (theta: Tensor) (gamma: float) =
    let pi = torch.softmax(theta, 1)
    let mutable total = torch.zeros([||], dtype = ScalarType.Float64)
    let bit k i = (i >>> k) &&& 1
    let piOf (s: int) (a: int) = pi.select(0L, int64 s).select(0L, int64 a)
    for i in 0..63 do
        let states, acts = [| bit 0 i; bit 2 i; bit 4 i |], [| bit 1 i; bit 3 i; bit 5 i |]
        let mutable prob = piOf states.[0] acts.[0] * p0.[states.[0]]
        for t in 1..2 do prob <- prob * trans.[states.[t - 1]].[acts.[t - 1]].[states.[t]] * piOf states.[t] acts.[t]
        let mutable cost, alive = 0.0, true
        for t in 0..2 do
            if alive then
                cost <- cost - gamma ** float t * rewards.[states.[t]].[acts.[t]]
                if ends states.[t] acts.[t] then alive <- false
        total <- total + prob * cost
    total

let private freshTheta () = torch.tensor([| 0.3; -0.2; -0.4; 0.5 |], dtype = ScalarType.Float64).reshape(2L, 2L).requires_grad_(true)

let private exactGradient gamma =
    let theta = freshTheta ()
    Stats.gradOf (exactObjective theta gamma) [ theta ]

/// A fixed (untrained) value function V(s) = w · onehot(s) + b: any function of the state is an unbiased baseline.
let private fixedValue () =
    let m = torch.nn.Linear(2L, 1L, dtype = ScalarType.Float64)
    use _ = torch.no_grad()
    m.weight.copy_(f64s([| 1.5; -0.7 |]).reshape(1L, 2L)) |> ignore
    m.bias.fill_(0.2) |> ignore
    ValueFunction("v", m)

/// max |z| of 100 runs of 256 environments of `surrogate` against the exact gradient of J_γ.
let private maxZ seed gamma (surrogate: Tensor -> RunResult<Rollout> -> Tensor) =
    let theta = freshTheta ()
    let m = rollout theta 256L
    use gen = new torch.Generator(seed, torch.CPU)
    let samples = Stats.gradients 100 [ theta ] (fun _ -> surrogate theta (Interpreter.Sample(m, RunOptions(Generator = gen))))
    let exact = exactGradient gamma
    let e = Stats.estimate samples
    Stats.maxAbsZ e exact, sprintf "mean %s vs exact %s" (Stats.fmt e.Mean) (Stats.fmt exact)

let private pg options = fun (_: Tensor) (r: RunResult<Rollout>) -> PolicyGradient.Build(r.Trace, r.Value, options).Surrogate

let private passes name seed gamma surrogate =
    let z, detail = maxZ seed gamma surrogate
    Expect.isLessThan z Stats.zBound (sprintf "%s: max |z| = %.2f, %s" name z detail)

let private rejected name seed gamma surrogate =
    let z, detail = maxZ seed gamma surrogate
    printfn "policy tests: %s rejected with max |z| = %.1f" name z
    Expect.isGreaterThan z Stats.zBound (sprintf "%s should be rejected: max |z| = %.2f, %s" name z detail)

[<Tests>]
let tests =
    testList "policy" [
        testList "MDP policy gradient (statistical)" [
            test "γ = 1, no baseline: unbiased for J" {
                passes "γ = 1" 11UL 1.0 (pg PolicyGradientOptions.Default) }
            test "γ = 0.5: unbiased for the discounted objective J_γ" {
                passes "γ = 0.5" 12UL 0.5 (pg (PolicyGradientOptions(Gamma = 0.5))) }
            test "γ = 1 with a value baseline V(s_t): unbiased" {
                passes "γ = 1, V" 13UL 1.0 (pg (PolicyGradientOptions(Value = fixedValue ()))) }
            test "γ = 0.5 with a value baseline V(s_t): unbiased for J_γ" {
                passes "γ = 0.5, V" 14UL 0.5 (pg (PolicyGradientOptions(Gamma = 0.5, Value = fixedValue ()))) }
            test "GAE with λ = 1 is the value baseline: unbiased even with an inexact critic" {
                passes "GAE λ = 1" 15UL 0.5 (pg (PolicyGradientOptions(Gamma = 0.5, Value = fixedValue (), Lambda = Nullable 1.0))) }
            test "the core's Surrogate.Build on the rollout's trace (γ = 1) is unbiased too" {
                passes "Surrogate.Build" 16UL 1.0 (fun _ r -> Surrogate.Build(r.Trace).Surrogate / 256.0) }
            test "Surrogate.Build with Baseline.Learned reading the state s_t (a non-descendant of a_t) is unbiased" {
                let net = fixedValue ()
                let est t = SiteEstimator.ScoreFunction.WithBaseline(Baseline.Learned("vs", net.Module, [| sprintf "s%d" t |], fun xs -> oneHot xs.[0]))
                let theta = freshTheta ()
                let m = PolicyRollout.Model(Mdp(256L), policyOf theta, horizon, actionEstimator = Func<int, SiteEstimator>(est))
                use gen = new torch.Generator(17UL, torch.CPU)
                let samples = Stats.gradients 100 [ theta ] (fun _ -> Surrogate.Build(Interpreter.Sample(m, RunOptions(Generator = gen)).Trace).Surrogate / 256.0)
                let z = Stats.maxAbsZ (Stats.estimate samples) (exactGradient 1.0)
                Expect.isLessThan z Stats.zBound (sprintf "max |z| = %.2f" z) }
            test "pathwise continuous actions: a ~ Normal(μ, 1), cost (a − 2)² per step, gradient through the costs" {
                // two steps, no termination: J_γ = (1 + γ) ((μ − 2)² + 1), dJ/dμ = 2 (1 + γ) (μ − 2)
                let env =
                    { new IBatchedEnvironment with
                        member _.Count = 256L
                        member _.Reset() =
                            let z = torch.zeros(256L, 1L, dtype = ScalarType.Float64)
                            Model.Return(EnvironmentStep(z, z, torch.zeros(256L, dtype = ScalarType.Float64), torch.zeros(256L, dtype = ScalarType.Bool)))
                        member _.Step(prev, a, _) =
                            Model.Return(EnvironmentStep(prev.State, prev.Observation, -(a - 2.0).square(), torch.zeros(256L, dtype = ScalarType.Bool))) }
                let mu = torch.tensor(0.5, dtype = ScalarType.Float64, requires_grad = true)
                let policy = Func<Tensor, int, Model<Distribution>>(fun _ _ -> Model.Return(Normal(mu, torch.ones_like(mu)) :> Distribution))
                let m = PolicyRollout.Model(env, policy, 2)
                use gen = new torch.Generator(18UL, torch.CPU)
                let samples = Stats.gradients 100 [ mu ] (fun _ ->
                    let r = Interpreter.Sample(m, RunOptions(Generator = gen))
                    Expect.isFalse (r.Trace.Sample("a0").IsScoreFunction) "the action is pathwise"
                    PolicyGradient.Build(r.Trace, r.Value, PolicyGradientOptions(Gamma = 0.5)).Surrogate)
                let z = Stats.maxAbsZ (Stats.estimate samples) [| 2.0 * 1.5 * (0.5 - 2.0) |]
                Expect.isLessThan z Stats.zBound (sprintf "max |z| = %.2f" z) }
            test "broken: dropping the state discount γ^t with γ = 0.5 is rejected against J_γ" {
                rejected "DropStateDiscount" 21UL 0.5 (pg (PolicyGradientOptions(Gamma = 0.5, DropStateDiscount = true))) }
            test "broken: a one-step critic (GAE λ = 0) that is not exact is rejected (documented as biased)" {
                rejected "GAE λ = 0" 22UL 0.5 (pg (PolicyGradientOptions(Gamma = 0.5, Value = fixedValue (), Lambda = Nullable 0.0))) }
            test "broken: a baseline that reads the action itself is rejected" {
                let reads = Baseline.Custom(fun site _ -> site.Value.to_type(ScalarType.Float64) * 3.0)
                rejected "baseline of a_t" 23UL 1.0 (fun _ r -> Surrogate.Build(r.Trace, SurrogateOptions(Baseline = reads)).Surrogate / 256.0) }
        ]

        testList "MDP exact" [
            test "γ = 1 without baseline: PolicyGradient's gradient is Surrogate.Build's divided by N, on one trace" {
                let theta = freshTheta ()
                let r = Interpreter.Sample(rollout theta 16L, RunOptions(Seed = 5UL))
                let a = Stats.gradOf (PolicyGradient.Build(r.Trace, r.Value).Surrogate) [ theta ]
                let b = Stats.gradOf (Surrogate.Build(r.Trace).Surrogate / 16.0) [ theta ]
                for i in 0 .. a.Length - 1 do Expect.floatClose Accuracy.veryHigh a.[i] b.[i] (sprintf "coordinate %d" i)
            }
            test "a rollout inside Model.Scope records full names: the same returns and gradient as without the scope" {
                let theta = freshTheta ()
                let plain = Interpreter.Sample(rollout theta 8L, RunOptions(Seed = 9UL))
                let scoped = Interpreter.Sample(Model.Scope("agent", rollout theta 8L), RunOptions(Seed = 9UL))
                Expect.equal scoped.Value.Steps.[0].ActionSite "agent/a0" "the step names its action by full name"
                Expect.equal scoped.Value.Steps.[0].CostName "agent/c0" "and its cost"
                Expect.isTrue (scoped.Value.Returns(scoped.Trace).allclose(plain.Value.Returns(plain.Trace))) "the same returns"
                let o = PolicyGradientOptions(Gamma = 0.5)
                let a = Stats.gradOf (PolicyGradient.Build(plain.Trace, plain.Value, o).Surrogate) [ theta ]
                let b = Stats.gradOf (PolicyGradient.Build(scoped.Trace, scoped.Value, o).Surrogate) [ theta ]
                for i in 0 .. a.Length - 1 do Expect.floatClose Accuracy.veryHigh b.[i] a.[i] (sprintf "coordinate %d" i)
            }
            test "the cost is Σ_t γ^t c_t per environment, with costs zero after an episode's end" {
                let theta = freshTheta ()
                let r = Interpreter.Sample(rollout theta 8L, RunOptions(Seed = 6UL))
                let tr = r.Trace
                let s = Array.init 3 (fun t -> tr.Sample(sprintf "s%d" t).Value.data<int64>().ToArray())
                let a = Array.init 3 (fun t -> tr.Sample(sprintf "a%d" t).Value.data<int64>().ToArray())
                let mutable total = 0.0
                for n in 0..7 do
                    let mutable alive = true
                    for t in 0..2 do
                        if alive then
                            total <- total - 0.5 ** float t * rewards.[int s.[t].[n]].[int a.[t].[n]]
                            if ends (int s.[t].[n]) (int a.[t].[n]) then alive <- false
                let o = PolicyGradient.Build(tr, r.Value, PolicyGradientOptions(Gamma = 0.5))
                Expect.floatClose Accuracy.veryHigh (o.Value.item<float>()) (total / 8.0) "Σ_t γ^t c_t / N"
            }
            test "the value function is trained by least squares on the cost-to-go, apart from the policy" {
                let theta = freshTheta ()
                let r = Interpreter.Sample(rollout theta 8L, RunOptions(Seed = 7UL))
                let vf = fixedValue ()
                let o = PolicyGradient.Build(r.Trace, r.Value, PolicyGradientOptions(Value = vf))
                Expect.isTrue (o.ValueLoss <> null) "a value loss"
                // the surrogate does not reach ψ, the value loss does not reach θ
                let psi = vf.Module.parameters() |> Seq.toList
                o.Surrogate.backward()
                for p in psi do Expect.isTrue (isNull p.grad || p.grad.abs().max().item<float>() = 0.0) "no gradient from the surrogate to ψ"
                Expect.isTrue (theta.grad.abs().max().item<float>() > 0.0) "the surrogate reaches θ"
                theta.grad.zero_() |> ignore
                o.ValueLoss.backward()
                Expect.equal (theta.grad.abs().max().item<float>()) 0.0 "no gradient from the value loss to θ"
                for p in psi do Expect.isTrue (p.grad.abs().max().item<float>() > 0.0) "the value loss reaches ψ"
                // its target is the cost-to-go: G_t at each live step
                let costs = Array.init r.Value.Steps.Count (fun t -> r.Trace.Cost(sprintf "c%d" t).Value)
                let alive = r.Value.Steps |> Seq.map (fun s -> s.Alive) |> Array.ofSeq
                let v t = vf.Module.call(r.Value.Steps.[t].Observation).squeeze(-1L)
                let mutable loss = torch.zeros([||], dtype = ScalarType.Float64)
                for t in 0 .. costs.Length - 1 do
                    let g = costs.[t..] |> Array.reduce (+)
                    loss <- loss + ((v t - g).square() * alive.[t]).sum()
                let count = alive |> Array.reduce (+) |> fun a -> a.sum()
                Expect.floatClose Accuracy.high (o.ValueLoss.item<float>()) ((loss / count).item<float>()) "mean squared error over live steps"
            }
        ]

        testList "refusals" [
            test "Baseline.Learned reading the action it baselines is refused, naming both" {
                let net = fixedValue ()
                let est t = SiteEstimator.ScoreFunction.WithBaseline(Baseline.Learned("va", net.Module, [| sprintf "a%d" t |], fun xs -> oneHot xs.[0]))
                let theta = freshTheta ()
                let m = PolicyRollout.Model(Mdp(4L), policyOf theta, horizon, actionEstimator = Func<int, SiteEstimator>(est))
                let r = Interpreter.Sample(m, RunOptions(Seed = 1UL))
                ErrorTests.throwsMentioning [ "'va'"; "'a0'"; "the site itself" ] (fun () -> Surrogate.Build(r.Trace) |> ignore)
            }
            test "Baseline.Learned reading the next state s_{t+1} (a descendant of a_t) is refused" {
                let net = fixedValue ()
                let est t = SiteEstimator.ScoreFunction.WithBaseline(Baseline.Learned("vn", net.Module, [| sprintf "s%d" (t + 1) |], fun xs -> oneHot xs.[0]))
                let theta = freshTheta ()
                let m = PolicyRollout.Model(Mdp(4L), policyOf theta, horizon, actionEstimator = Func<int, SiteEstimator>(est))
                let r = Interpreter.Sample(m, RunOptions(Seed = 1UL))
                ErrorTests.throwsMentioning [ "'vn'"; "'s1'"; "downstream of 'a0'" ] (fun () -> Surrogate.Build(r.Trace) |> ignore)
            }
            test "bad options and shapes are refused with messages that say what to do" {
                let theta = freshTheta ()
                let r = Interpreter.Sample(rollout theta 4L, RunOptions(Seed = 2UL))
                ErrorTests.throwsMentioning [ "γ"; "(0, 1]" ] (fun () -> PolicyGradient.Build(r.Trace, r.Value, PolicyGradientOptions(Gamma = 1.5)) |> ignore)
                ErrorTests.throwsMentioning [ "GAE"; "Value" ] (fun () -> PolicyGradient.Build(r.Trace, r.Value, PolicyGradientOptions(Lambda = Nullable 0.5)) |> ignore)
                let wide = ValueFunction("w", torch.nn.Linear(2L, 3L, dtype = ScalarType.Float64))
                ErrorTests.throwsMentioning [ "'w'"; "one value per step and environment" ] (fun () -> PolicyGradient.Build(r.Trace, r.Value, PolicyGradientOptions(Value = wide)) |> ignore)
                ErrorTests.throwsMentioning [ "horizon" ] (fun () -> rollout theta 4L |> ignore; PolicyRollout.Model(Mdp(4L), policyOf theta, 0) |> ignore)
            }
        ]

        testList "policy search" [
            test "training on the MDP lowers its exact expected cost (baseline and actor-critic)" {
                for gradient in [ PolicyGradientOptions(); PolicyGradientOptions(Value = ValueFunction("v", torch.nn.Linear(2L, 1L, dtype = ScalarType.Float64)), Lambda = Nullable 0.5) ] do
                    let store = ParamStore()
                    let policy = Func<Tensor, int, Model<Distribution>>(fun obs _ ->
                        Model.Map(Model.Param("theta", fun () -> torch.zeros(2L, 2L, dtype = ScalarType.Float64)), fun theta -> Categorical.FromLogits(obs.matmul(theta)) :> Distribution))
                    let result = PolicySearch.Train(Mdp(64L), policy, store, PolicySearchOptions(Horizon = horizon, LearningRate = 0.1, MaxEpisodes = 64 * 30, Seed = 3UL, Gradient = gradient))
                    let before = (exactObjective (torch.zeros(2L, 2L, dtype = ScalarType.Float64)) 1.0).item<float>()
                    let after = (exactObjective (store.["theta"].detach()) 1.0).item<float>()
                    Expect.equal result.Updates 30 "30 updates of 64 episodes"
                    Expect.isLessThan after (before - 0.3) (sprintf "exact J: %.3f before, %.3f after" before after)
            }
            test "a short CartPole run (smoke): the loop runs and its returns are finite and in [1, 200]" {
                for lambda in [ Nullable(); Nullable 0.9 ] do
                    torch.manual_seed(1L) |> ignore
                    let net = torch.nn.Sequential(torch.nn.Linear(4L, 16L), torch.nn.Tanh(), torch.nn.Linear(16L, 2L))
                    let value = ValueFunction("value", torch.nn.Sequential(torch.nn.Linear(4L, 16L), torch.nn.Tanh(), torch.nn.Linear(16L, 1L)))
                    let policy = Func<Tensor, int, Model<Distribution>>(fun obs _ ->
                        Model.Map(Model.Module("policy", net), fun m -> Categorical.FromLogits(m.call(obs)) :> Distribution))
                    let options = PolicySearchOptions(MaxEpisodes = 32, Seed = 1UL, Solved = Func<_, _>(CartPole.IsSolved),
                                                      Gradient = PolicyGradientOptions(Gamma = 0.99, DropStateDiscount = true, Value = value, Lambda = lambda))
                    let result = PolicySearch.Train(CartPole(8L), policy, ParamStore(), options)
                    Expect.equal result.Returns.Count 32 "32 episodes"
                    Expect.equal result.Updates 4 "4 updates"
                    Expect.isNone (Option.ofNullable result.EpisodesToSolve) "not solved in 32 episodes"
                    Expect.all result.Returns (fun r -> Double.IsFinite r && r >= 1.0 && r <= 200.0) (sprintf "returns %A" result.Returns)
            }
            test "CartPole.IsSolved: an average of at least 195 over the last 100 episodes" {
                Expect.isFalse (CartPole.IsSolved(Array.create 99 200.0)) "fewer than 100 episodes"
                Expect.isTrue (CartPole.IsSolved(Array.append [| 0.0 |] (Array.create 100 195.0))) "the last 100 at 195"
                Expect.isFalse (CartPole.IsSolved(Array.append (Array.create 99 196.0) [| 50.0 |])) "a bad last episode"
            }
        ]

        testList "CartPole" [
            test "one Euler step matches values computed by hand from the cart-pole equations" {
                // x = 0.01, ẋ = −0.02, θ = 0.1, θ̇ = 0.3; temp = (F + m_p l θ̇² sin θ) / (m_c + m_p),
                // θ̈ = (g sin θ − cos θ · temp) / (l (4/3 − m_p cos²θ / (m_c + m_p))), ẍ = temp − m_p l θ̈ cos θ / (m_c + m_p),
                // then x += τ ẋ, ẋ += τ ẍ, θ += τ θ̇, θ̇ += τ θ̈ (in float64, for F = +10 and F = −10)
                let state = torch.tensor([| 0.01; -0.02; 0.1; 0.3; 0.01; -0.02; 0.1; 0.3 |], dtype = ScalarType.Float64).reshape(2L, 4L)
                let next = CartPole.Dynamics(state, torch.tensor([| 1L; 0L |]))
                let expected = [| 0.0096; 0.17356495120036725; 0.106; 0.04045412544986271; 0.0096; -0.21639456486090802; 0.106; 0.6224711396060209 |]
                let got = next.reshape(-1L).data<float>().ToArray()
                for i in 0..7 do Expect.floatClose Accuracy.veryHigh got.[i] expected.[i] (sprintf "component %d" i)
                let ended = CartPole.Ended(torch.tensor([| 2.5; 0.0; 0.0; 0.0; 0.0; 0.0; 0.21; 0.0; 2.3; 0.0; 0.2; 0.0 |], dtype = ScalarType.Float64).reshape(3L, 4L))
                Expect.sequenceEqual (ended.data<bool>().ToArray()) [| true; true; false |] "|x| > 2.4 or |θ| > 12° (0.2094 rad)"
            }
            test "a rollout of a random policy: returns between 1 and 200, cost-masked after the end" {
                let env = CartPole(16L, ScalarType.Float64)
                let uniform = Func<Tensor, int, Model<Distribution>>(fun obs _ -> Model.Return(Categorical.FromLogits(torch.zeros(obs.shape.[0], 2L, dtype = ScalarType.Float64)) :> Distribution))
                let r = Interpreter.Sample(PolicyRollout.Model(env, uniform, CartPole.Horizon), RunOptions(Seed = 3UL))
                let returns = r.Value.Returns(r.Trace).data<float>().ToArray()
                Expect.all returns (fun x -> x >= 1.0 && x <= 200.0) (sprintf "returns %A" returns)
                Expect.isLessThan (Array.average returns) 60.0 "a random policy falls soon"
                Expect.isLessThan r.Value.Steps.Count 200 "the rollout stops once every pole has fallen"
            }
            test "a long rollout (horizon 5,000 steps, episodes that never end) keeps the call stack flat, on a thread-pool thread" {
                let t = Task.Run(fun () ->
                    let m = PolicyRollout.Model(Mdp(2L, false), policyOf (freshTheta ()), 5_000)
                    let r = Interpreter.Sample(m, RunOptions(Seed = 4UL))
                    r.Value.Steps.Count, PolicyGradient.Build(r.Trace, r.Value, PolicyGradientOptions(Gamma = 0.99)).Value.item<float>())
                let steps, value = t.Result
                Expect.equal steps 5_000 "every step ran"
                Expect.isTrue (Double.IsFinite value) "finite"
            }
        ]
    ]
