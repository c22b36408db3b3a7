/// A comparable summary of a trace: node kinds, names, values (bitwise), estimators, plates and edges.
module Scg.Tests.TraceSignature

open TorchSharp
open Scg.Tracing

let private values (x: torch.Tensor) = x.detach().to_type(torch.ScalarType.Float64).flatten().data<float>().ToArray()

type NodeSig = { Kind: string; Name: string; Value: float[]; Shape: int64[]; Estimator: string; Plates: string list }

let ofNode (n: TraceNode) =
    let plates = [ for p in n.Plates -> string p ]
    match n with
    | :? SampleNode as s ->
        { Kind = "sample"; Name = s.Name; Value = values s.Value; Shape = s.Value.shape; Estimator = sprintf "%A%s" s.Estimator (if s.IsReplayed then "/replayed" else ""); Plates = plates }
    | :? ObserveNode as o -> { Kind = "observe"; Name = o.Name; Value = values o.Value; Shape = o.Value.shape; Estimator = ""; Plates = plates }
    | :? CostNode as c -> { Kind = "cost"; Name = c.Name; Value = values c.Value; Shape = c.Value.shape; Estimator = ""; Plates = plates }
    | :? ParamNode as p -> { Kind = "param"; Name = p.Name; Value = values p.Value; Shape = p.Value.shape; Estimator = ""; Plates = plates }
    | _ -> failwithf "unknown node %s" n.Name

/// Nodes in program order and the set of edges by name.
let ofTrace (t: Trace) =
    [ for n in t.Nodes -> ofNode n ],
    t.Edges |> Seq.map (fun struct (a, b) -> a.Name, b.Name) |> Set.ofSeq
