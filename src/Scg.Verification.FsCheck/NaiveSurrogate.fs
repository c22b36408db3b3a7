/// The naive reference surrogate (core-semantics.md), per site and cost pair, O(N²), written without the library's
/// cost-to-go machinery so that the fast constructions can be compared with it to 1e-9.
///
/// For every score-function site s and every cost or observation c downstream of s (trace.IsDownstream), c's tensor
/// with the dims of the plates shared with s kept and all other dims summed, laid out on s's plate shape (a shared
/// plate is summed too when a sample, cost or observation n outside it lies between, s ⇝ n ⇝ c: n may read all of
/// s's elements); lp_s reduced to s's plate shape; S = (Σ_c sum(c) + Σ_s sum(lp_s · ⊥Q_s)) / K.
module Scg.Verification.NaiveSurrogate

open System
open TorchSharp
open Scg.Tracing

/// TorchSharp's tensor.
type Tensor = TorchSharp.torch.Tensor

// ---------------------------------------------------------------------------------------------------------
// The naive reference surrogate (core-semantics.md, per pair, O(N²))

/// The shape of a node's plates: rank = its deepest plate dim, plate sizes there, 1 elsewhere.
let plateShapeOf (node: TraceNode) =
    let r = node.Plates |> Seq.fold (fun r p -> max r (-p.Dim)) 0
    let shape = Array.create r 1L
    for p in node.Plates do shape.[r + p.Dim] <- p.Size
    shape

/// t (a tensor of node `from`) reduced to site s's plate shape: dims of the plates in `keep` (plates that `from`
/// and s share) are kept element by element, every other dim of t is summed; s's plates that `from` lacks are
/// broadcast.
let reduceKeeping (t: Tensor) (from: TraceNode) (s: SampleNode) (keep: string -> bool) =
    let shared = [ for p in from.Plates do if keep p.Name && s.Plates |> Seq.exists (fun q -> q.Name = p.Name) then yield p.Dim ]
    let r = t.shape.Length
    let summed = [| for a in 0 .. r - 1 do if not (List.contains (a - r) shared) then yield int64 a |]
    let t = if summed.Length = 0 then t else t.sum(summed, true)
    let target = plateShapeOf s
    let t = if r > target.Length then t.reshape(t.shape.[r - target.Length ..]) else t
    t.expand(target)

/// t reduced to s's plate shape, every shared plate kept element by element.
let reduceTo (t: Tensor) (from: TraceNode) (s: SampleNode) = reduceKeeping t from s (fun _ -> true)

/// The (product, branch) pairs of a node's place among independent products, read from the library's internal
/// record by reflection, so that the reference decides "c is downstream of n" for any node n on its own.
let private branchesOf (n: TraceNode) =
    let flags = Reflection.BindingFlags.Instance ||| Reflection.BindingFlags.NonPublic ||| Reflection.BindingFlags.Public
    let prop (o: obj) name = o.GetType().GetProperty(name, flags).GetValue(o)
    let rec walk (path: obj) =
        if isNull path then []
        else (prop path "Product" :?> int, prop path "BranchIndex" :?> int) :: walk (prop path "Parent")
    walk (typeof<TraceNode>.GetProperty("Branch", flags).GetValue(n))

/// True when n and c lie in different branches of one independent product.
let separated (n: TraceNode) (c: TraceNode) =
    let a, b = branchesOf n, branchesOf c
    a |> List.exists (fun (p, i) -> b |> List.exists (fun (q, j) -> p = q && i <> j))

/// The plates shared by s and c in which c is credited to s summed over the plate, not element by element: those
/// that some sample, cost or observation n with s ⇝ n ⇝ c lacks (n may read all of s's elements).
let mixedPlates (trace: Trace) (s: SampleNode) (c: TraceNode) =
    set [ for n in trace.Nodes do
            match n with
            | :? SampleNode | :? CostNode | :? ObserveNode when
                n.Index > s.Index && n.Index < c.Index && not (separated s n) && not (separated n c) ->
                for p in s.Plates do
                    if not (n.Plates |> Seq.exists (fun q -> q.Name = p.Name)) then yield p.Name
            | _ -> () ]

/// What a cost-like node adds to the objective: a cost's value, an observation's −log p.
let costValue (n: TraceNode) =
    match n with
    | :? CostNode as c -> c.Value
    | :? ObserveNode as o -> o.LogProb.neg()
    | _ -> failwith "not a cost"

/// The trace's costs and observations, in program order.
let costNodes (trace: Trace) =
    trace.Nodes |> Seq.filter (fun n -> n :? CostNode || n :? ObserveNode) |> List.ofSeq

/// The naive Q_s: Σ over the cost-like nodes c with `credit s c` of c reduced to s's plate shape (detached).
let naiveQ (trace: Trace) (credit: SampleNode -> TraceNode -> bool) (s: SampleNode) =
    let parts =
        [ for c in costNodes trace do
            if credit s c then
                let mixed = mixedPlates trace s c
                yield reduceKeeping (costValue c) c s (fun p -> not (mixed.Contains p)) ]
    match parts with
    | [] -> torch.zeros(plateShapeOf s, dtype = s.LogProb.dtype)
    | _ -> (parts |> List.reduce (+)).detach()

/// S = (Σ_c sum(c) + Σ_{score sites s} sum(lp_s · ⊥Q_s)) / K, with Q_s from `credit`; no score terms when None.
let naiveSurrogate (trace: Trace) (credit: (SampleNode -> TraceNode -> bool) option) =
    let costs = costNodes trace |> List.map (fun c -> (costValue c).sum()) |> List.reduce (+)
    let score =
        match credit with
        | None -> []
        | Some credit ->
            [ for s in trace.Samples do
                if s.IsScoreFunction then
                    yield (reduceTo s.LogProb s s * naiveQ trace credit s).sum() ]
    (List.fold (+) costs score) / float trace.ParticleCount

/// The library's credit rule: c is downstream of s in the trace (trace.IsDownstream).
let downstream (trace: Trace) = fun (s: SampleNode) (c: TraceNode) -> trace.IsDownstream(s, c)
