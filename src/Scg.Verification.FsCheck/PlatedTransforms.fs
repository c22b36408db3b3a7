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

/// Sites, costs and observations in program order, each with its id (for a site), its plates, and the products
/// around it: (product number, 0 or 1 for its first or second body), innermost first.
let private leafNodesInBranches (g: Program) =
    let mutable products = 0
    let rec walk path (nodes: PNode list) =
        nodes
        |> List.collect (function
            | PSiteN s -> [ Some s.Id, s.Plates, path ]
            | PCostN c -> [ None, c.CPlates, path ]
            | PObsN o -> [ None, o.OPlates, path ]
            | PPlate (_, _, b) -> walk path b
            | PZip (a, b) ->
                let id = products
                products <- products + 1
                walk ((id, 0) :: path) a @ walk ((id, 1) :: path) b)
    walk [] g.Body

/// True when two nodes lie in different bodies of one product (neither is downstream of the other).
let private separated path1 path2 =
    path1 |> List.exists (fun (p, side) -> path2 |> List.exists (fun (q, other) -> p = q && side <> other))

/// Whether the library can enumerate site s of g: s is discrete without an extra batch dimension, and every node
/// downstream of s (after it in program order, not in another body of a product around it) lies in all of s's plates.
let enumerable (g: Program) (s: PSite) =
    isDiscreteSite s && s.Extra = NoExtra
    && (let leaves = leafNodesInBranches g
        let at = leaves |> List.findIndex (fun (id, _, _) -> id = Some s.Id)
        let (_, _, path) = leaves.[at]
        leaves
        |> List.skip (at + 1)
        |> List.filter (fun (_, _, p) -> not (separated path p))
        |> List.forall (fun (_, ps, _) -> s.Plates |> List.forall (fun q -> ps |> List.exists (fun a -> a.Name = q.Name))))

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
