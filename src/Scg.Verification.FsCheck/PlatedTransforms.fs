/// Transformations of random plated programs: which sites the library can enumerate, products made sequences, and
/// programs made wholly discrete (so that every site can be enumerated and the estimate is exact).
module Scg.Verification.PlatedTransforms

open System
open Scg.Verification.PlatedProgram

/// True when the program holds an independent product (Model.Zip).
let hasZip (g: Program) = allNodes g.Body |> List.exists (function PZip _ -> true | _ -> false)

/// True for a Bernoulli or Categorical site.
let isDiscreteSite (s: PSite) = match s.Kind with PGauss _ -> false | _ -> true

/// Sites, costs and observations in program order, each with its plates (and its id, for a site).
let leafNodes (g: Program) =
    allNodes g.Body
    |> List.choose (function
        | PSiteN s -> Some (Some s.Id, s.Plates)
        | PCostN c -> Some (None, c.CPlates)
        | PObsN o -> Some (None, o.OPlates)
        | _ -> None)

/// Whether the library can enumerate site s of g: s is discrete without an extra batch dimension, and every node
/// after s in program order (in a later branch of a product too) lies in all of s's plates.
let enumerable (g: Program) (s: PSite) =
    isDiscreteSite s && s.Extra = NoExtra
    && (let leaves = leafNodes g
        let at = leaves |> List.findIndex (fun (id, _) -> id = Some s.Id)
        leaves
        |> List.skip (at + 1)
        |> List.forall (fun (_, ps) -> s.Plates |> List.forall (fun q -> ps |> List.exists (fun a -> a.Name = q.Name))))

/// g with its products made sequences (a branch never reads the other's sites, so the forms stay valid).
let sequenced (g: Program) =
    let rec body (nodes: PNode list) =
        nodes
        |> List.collect (function
            | PPlate (q, explicitDim, b) -> [ PPlate (q, explicitDim, body b) ]
            | PZip (a, b) -> body a @ body b
            | n -> [ n ])
    { g with Body = body g.Body }

/// g with every Normal site made a Bernoulli (logit = its mean form) and extra batch dimensions of sites dropped;
/// products stay products.
let discretise (g: Program) =
    let site (s: PSite) =
        match s.Kind with
        | PGauss (mean, _, _) -> { s with Kind = PBern mean; Extra = NoExtra; Offsets = [| 0.0 |] }
        | _ when s.Extra <> NoExtra -> { s with Extra = NoExtra; Offsets = [| 0.0 |] }
        | _ -> s
    let rec body (nodes: PNode list) =
        nodes
        |> List.collect (function
            | PSiteN s -> [ PSiteN (site s) ]
            | PPlate (q, explicitDim, b) -> [ PPlate (q, explicitDim, body b) ]
            | PZip (a, b) -> [ PZip (body a, body b) ]
            | n -> [ n ])
    { g with Body = body g.Body; Sites = g.Sites |> Array.map site }

/// Binary digits of the discrete elements (the oracle enumerates them all).
let discreteBits (g: Program) =
    g.Sites
    |> Array.sumBy (fun s ->
        let n = float (numel (frameShape s.Plates) * extraSize s.Extra)
        match s.Kind with PBern _ -> n | PCat _ -> n * Math.Log(3.0, 2.0) | PGauss _ -> 0.0)

/// True when the library can enumerate every site of the program.
let allEnumerable (g: Program) = g.Sites |> Array.forall (enumerable g)
