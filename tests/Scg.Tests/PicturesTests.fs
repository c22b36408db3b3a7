/// Pictures of traces and training (Scg.Pictures and TraceFormat): the lecture's shapes, pathwise and blocked
/// edges, plates, and the credit of each score-function site (checked by hand on small traces and against the
/// naive reference's rule on random plated programs); Graphviz rendering, ScottPlot charts, notebook HTML.
/// Deterministic (fixed seeds); no statistical tests. With SCG_PICTURES_OUT set to a folder, the "docs pictures"
/// test writes trace.svg, trace.png and variance.png there (docs/pictures.md).
module Scg.Tests.PicturesTests

open System
open System.IO
open Expecto
open TorchSharp
open Scg
open Scg.Distributions
open Scg.Interpretation
open Scg.Estimators
open Scg.Tracing
open Scg.Pictures
open Scg.Verification

let private model = ModelBuilder()
let private f64 (x: float) = torch.tensor(x, dtype = torch.ScalarType.Float64)
let private vec (xs: float[]) = torch.tensor(xs, dtype = torch.ScalarType.Float64)

/// The lecture-style example: parameters θ and μ (μ read in the plate, just before x); a global discrete choice z ~ Bernoulli(σ(θ)) (score function);
/// in plate data(3): x ~ Normal(μ + z, 1) (pathwise), k ~ Bernoulli(σ(x)) (score function), y ~ Normal(x, 0.5)
/// observed, cost c = (x − k)²; after the plate a cost penalty = (z − 1)².
/// By hand: z's score term gets y, c and penalty (everything after it); k's gets y and c (element by element in
/// data: nothing outside the plate lies between) and penalty; x is pathwise (no score term).
let lecture =
    model {
        let! theta = Model.Param("theta", fun () -> f64 0.2)
        let! z = Model.Sample("z", Dist.BernoulliLogits(theta), SiteEstimator.ScoreFunction)
        let! _ =
            Model.Plate("data", 3L, model {
                let! mu = Model.Param("mu", fun () -> f64 0.5)
                let! x = Model.Sample("x", Normal(mu + z, f64 1.0))
                let! k = Model.Sample("k", Dist.BernoulliLogits(x), SiteEstimator.ScoreFunction)
                let! _ = Model.Observe("y", Normal(x, f64 0.5), vec [| 0.3; -0.2; 1.1 |])
                let! _ = Model.Cost("c", (x - k).square())
                return () })
        let! _ = Model.Cost("penalty", (z - 1.0).square())
        return () }

let private lectureTrace () = Interpreter.Sample(lecture, RunOptions(Seed = 5UL)).Trace

/// Site name → [cost name, plates summed over] from Credit.Of.
let private creditTable (trace: Trace) =
    [ for c in Credit.Of trace ->
        c.Site.Name, [ for cc in c.Costs -> cc.Cost.Name, [ for p in cc.SummedOver -> p.Name ] ] ]

let private indexOf (trace: Trace) name = trace.[name].Index

let private pngMagic = [| 0x89uy; 0x50uy; 0x4Euy; 0x47uy; 0x0Duy; 0x0Auy; 0x1Auy; 0x0Auy |]
let private isPng (bytes: byte[]) = bytes.Length > 8 && bytes.[0..7] = pngMagic

/// The exception of type 'e that f throws (fails the test when it throws none, or another).
let private thrown<'e when 'e :> exn> (f: unit -> unit) : 'e =
    try
        f ()
        failtestf "expected %s, nothing was thrown" typeof<'e>.Name
    with
    | :? 'e as e -> e

let private withTemp (f: string -> unit) =
    let dir = Path.Combine(Path.GetTempPath(), "scg-pictures-" + Guid.NewGuid().ToString("N"))
    Directory.CreateDirectory dir |> ignore
    try f dir finally Directory.Delete(dir, true)

/// Measured data for the variance chart: docs/variance.md, structured model, group φ_z, "var / var(a)" (the variance
/// report's total variance per configuration relative to REINFORCE with the total cost, N = 10,000).
let private varianceData =
    [| "(a) total cost"; "(b) cost-to-go"; "(c) + moving avg"; "(d) + learned"; "(e) LOO, K = 4"; "(e) LOO, K = 16"
       "(f) pathwise z"; "(g) enumerated y" |],
    [| 1.0; 0.146; 0.0866; 0.0671; 0.101; 0.0932; 0.0171; 0.0046 |]

let private varianceChart () =
    let names, ratios = varianceData
    Charts.VarianceBars(names, ratios, title = "Structured model, φ_z: gradient variance relative to (a) (docs/variance.md)",
                        valueLabel = "variance / variance of (a)")

[<Tests>]
let tests =
    testList "pictures" [
        test "credit of the lecture example, analysed by hand" {
            let tr = lectureTrace ()
            Expect.equal (creditTable tr)
                [ "z", [ "y", []; "c", []; "penalty", [] ]
                  "k", [ "y", []; "c", []; "penalty", [] ] ]
                "z: everything after it; k: y and c element-wise, and penalty"
        }

        test "credit: a carrier outside a reopened plate makes the credit summed over it; a parameter read does not" {
            let theta = f64 0.3
            let withCost = model {
                let! x = Model.Plate("i", 2L, Model.Sample("x", Dist.BernoulliLogits(theta), SiteEstimator.ScoreFunction))
                let! _ = Model.Cost("m", x.sum(-1L) * 0.0 + 100.0)
                let! _ = Model.Plate("i", 2L, Model.Cost("c", vec [| 1.0; 10.0 |]))
                return () }
            let tr = Interpreter.Sample(withCost, RunOptions(Seed = 3UL)).Trace
            Expect.equal (creditTable tr) [ "x", [ "m", []; "c", [ "i" ] ] ] "c is credited summed over i"
            // CostToGo agrees: each element of x gets m + c_1 + c_2
            let q = (CostToGo.Compute tr).["x"].to_type(torch.ScalarType.Float64).data<float>().ToArray()
            Expect.sequenceEqual q [| 111.0; 111.0 |] "the walk sums c over i"
            Expect.stringContains (TraceFormat.ToDot tr) "label=\"Σ i\"" "DOT labels the summed credit"
            Expect.stringContains (TraceFormat.ToMermaid tr) "-.-> |\"Σ i\"| n" "Mermaid labels the summed credit"
            let withParam = model {
                let! _ = Model.Plate("i", 2L, Model.Sample("x", Dist.BernoulliLogits(theta), SiteEstimator.ScoreFunction))
                let! w = Model.Param("w", fun () -> f64 1.0)
                let! _ = Model.Plate("i", 2L, Model.Cost("c", vec [| 1.0; 10.0 |] * w.detach()))
                return () }
            let tr = Interpreter.Sample(withParam, RunOptions(Seed = 3UL)).Trace
            Expect.equal (creditTable tr) [ "x", [ "c", [] ] ] "a parameter read keeps the credit element-wise"
        }

        test "credit: product branches do not credit each other; TotalCost credits every cost" {
            let score name = Model.Sample(name, Normal(f64 0.0, f64 1.0), SiteEstimator.ScoreFunction)
            let left = model { let! a = score "a" in let! _ = Model.Cost("ca", f64 1.0) in return a }
            let right = model { let! b = score "b" in let! _ = Model.Cost("cb", f64 10.0) in return b }
            let m = model {
                let! _ = Model.Cost("c0", f64 0.5)
                let! _ = Model.Zip(left, right)
                let! _ = Model.Cost("cc", f64 100.0)
                return () }
            let tr = Interpreter.Sample(m, RunOptions(Seed = 1UL)).Trace
            Expect.equal (creditTable tr) [ "a", [ "ca", []; "cc", [] ]; "b", [ "cb", []; "cc", [] ] ] "branches apart"
            let total = Credit.Of(tr, SurrogateOptions(TotalCost = true))
            for c in total do
                Expect.equal [ for cc in c.Costs -> cc.Cost.Name ] [ "c0"; "ca"; "cb"; "cc" ] ("TotalCost: " + c.Site.Name)
        }

        test "credit agrees with the naive reference's rule on 100 random plated programs" {
            let problems = Collections.Generic.List<string>()
            let mutable summed = 0
            for seed in 1 .. 100 do
                use scope = torch.NewDisposeScope()
                let g = PlatedProgram.makeProgram seed
                let leaves = PlatedModel.platedLeaves g
                let nesting = PlatedProgram.neededNesting g
                use gen = new torch.Generator(uint64 seed, torch.CPU)
                let trace =
                    Interpreter.Sample(PlatedModel.toPlatedModel g 1 nesting leaves,
                                       RunOptions(Generator = gen, Particles = 1, MaxPlateNesting = nesting)).Trace
                let expected =
                    [ for s in trace.Samples do
                        if s.IsScoreFunction then
                            s.Name,
                            [ for c in NaiveSurrogate.costNodes trace do
                                if trace.IsDownstream(s, c) then
                                    let mixed = NaiveSurrogate.mixedPlates trace s c
                                    c.Name, [ for p in c.Plates do if mixed.Contains p.Name then p.Name ] |> List.sort ] ]
                let got = creditTable trace |> List.map (fun (s, cs) -> s, cs |> List.map (fun (c, ps) -> c, List.sort ps))
                if expected |> List.exists (fun (_, cs) -> cs |> List.exists (fun (_, ps) -> not ps.IsEmpty)) then summed <- summed + 1
                if got <> expected then problems.Add(sprintf "seed %d: got %A, expected %A" seed got expected)
            Expect.isEmpty problems (sprintf "Credit.Of matches downstream + mixedPlates; %d programs differ, first: %s"
                                         problems.Count (Seq.tryHead problems |> Option.defaultValue ""))
            Expect.isGreaterThan summed 0 "some programs credit a cost summed over a plate (the pattern is exercised)"
        }

        test "DOT draws the lecture's shapes, edge styles, plates and credit" {
            let tr = lectureTrace ()
            let dot = TraceFormat.ToDot tr
            let n name = sprintf "n%d" (indexOf tr name)
            Expect.stringStarts dot "digraph trace {" "header"
            Expect.stringContains dot (sprintf "%s [label=\"z ~ Bernoulli\\n(score function)\", shape=circle, color=" (n "z")) "score site: circle, coloured"
            Expect.stringContains dot (sprintf "%s [label=\"x ~ Normal\\n(pathwise)\", shape=circle];" (n "x")) "pathwise site: circle"
            Expect.stringContains dot (sprintf "%s [label=\"y ~ Normal\\n(observed)\", shape=circle, style=filled, fillcolor=gray85];" (n "y")) "observation shaded"
            Expect.stringContains dot (sprintf "%s [label=\"penalty\", shape=square];" (n "penalty")) "cost: square"
            Expect.stringContains dot "[label=\"theta\", shape=plaintext];" "parameter: plain label"
            Expect.stringContains dot "subgraph cluster_plate_" "plate as a cluster"
            Expect.stringContains dot "label=\"data (3)\"" "plate captioned with its size"
            Expect.stringContains dot (sprintf "%s -> %s [style=solid, penwidth=1.5];" (n "x") (n "c")) "pathwise edge solid"
            Expect.stringContains dot (sprintf "%s -> %s [style=dashed, color=gray45];" (n "z") (n "x")) "blocked edge dashed"
            Expect.stringContains dot (sprintf "%s -> %s [style=dotted, penwidth=1.8, arrowhead=empty, constraint=false, color=\"%s\"];" (n "penalty") (n "z") "#d62728") "credit of z"
            Expect.stringContains dot (sprintf "%s -> %s [style=dotted, penwidth=1.8, arrowhead=empty, constraint=false, color=\"%s\"];" (n "c") (n "k") "#1f77b4") "credit of k"
            Expect.isFalse (dot.Contains(sprintf "%s -> %s [style=dotted" (n "c") (n "x"))) "a pathwise site has no credit edge"
            // the plate holds x, k, y, c and not z or penalty
            let cluster = dot.Substring(dot.IndexOf("subgraph cluster_plate_"))
            let body = cluster.Substring(0, cluster.IndexOf("}"))
            for name in [ "x"; "k"; "y"; "c" ] do Expect.stringContains body (n name + " [") (name + " in the plate")
            for name in [ "z"; "penalty" ] do Expect.isFalse (body.Contains(n name + " [")) (name + " outside the plate")
        }

        test "Mermaid draws circles, squares, subgraphs, thick pathwise and dotted credit arrows" {
            let tr = lectureTrace ()
            let mermaid = TraceFormat.ToMermaid tr
            let n name = sprintf "n%d" (indexOf tr name)
            Expect.stringStarts mermaid "flowchart TD" "header"
            Expect.stringContains mermaid (sprintf "%s((\"z ~ Bernoulli<br/>(score function)\"))" (n "z")) "circle"
            Expect.stringContains mermaid (sprintf "%s((\"y ~ Normal<br/>(observed)\")):::observed" (n "y")) "observation shaded"
            Expect.stringContains mermaid (sprintf "%s[\"penalty\"]" (n "penalty")) "square"
            Expect.stringContains mermaid "{\"mu\"}:::param" "parameter diamond"
            Expect.stringContains mermaid "[\"data (3)\"]" "plate subgraph"
            Expect.stringContains mermaid (sprintf "%s ==> %s" (n "x") (n "c")) "pathwise thick"
            Expect.stringContains mermaid (sprintf "%s --> %s" (n "z") (n "x")) "blocked plain"
            Expect.stringContains mermaid (sprintf "%s -.-> %s" (n "penalty") (n "z")) "credit dotted"
            Expect.stringContains mermaid "stroke-dasharray" "blocked edges styled dashed"
            // linkStyle counts links in order of definition: every index must name a link, the credit ones last
            let lines = mermaid.Split('\n')
            let links = lines |> Array.filter (fun l -> l.Contains " --> " || l.Contains " ==> " || l.Contains " -.-> ")
            let styled = lines |> Array.filter (fun l -> l.StartsWith "  linkStyle ") |> Array.map (fun l -> int (l.Split(' ').[3]))
            Expect.equal (Array.max styled) (links.Length - 1) "the last link is styled (a credit arrow)"
            let lastLink = links.[links.Length - 1]
            Expect.stringContains lastLink " -.-> " "and it is a credit arrow"
            let credit = Credit.Of tr
            Expect.equal (links |> Array.filter (fun l -> l.Contains " -.-> ") |> Array.length)
                (credit |> Seq.sumBy (fun c -> c.Costs.Length)) "one dotted arrow per credited cost"
        }

        test "Graphviz renders the trace to SVG and PNG; a missing dot names what to install" {
            let tr = lectureTrace ()
            let ex = thrown<GraphvizNotFoundException> (fun () -> Graphviz.Png("digraph { a }", "no-such-dot-program") |> ignore)
            Expect.stringContains ex.Message "apt-get install graphviz" "names the Debian package"
            Expect.stringContains ex.Message "no-such-dot-program" "names the program looked for"
            let wrongExt = thrown<ArgumentException> (fun () -> TracePictures.Save(tr, "trace.jpg"))
            Expect.stringContains wrongExt.Message ".png or .svg" "says which extensions work"
            if Graphviz.IsAvailable() then
                let svg = TracePictures.Svg tr
                Expect.stringContains svg "<svg" "an SVG document"
                Expect.stringContains svg "data (3)" "with the plate's caption"
                Expect.isTrue (isPng (TracePictures.Png tr)) "PNG magic bytes"
                withTemp (fun dir ->
                    let path = Path.Combine(dir, "t.png")
                    TracePictures.Save(tr, path)
                    Expect.isTrue (isPng (File.ReadAllBytes path)) "a PNG file")
                let bad = thrown<InvalidOperationException> (fun () -> Graphviz.Svg "digraph { a -> }" |> ignore)
                Expect.stringContains bad.Message "failed" "dot's error reported"
            else
                printfn "pictures: Graphviz's dot is not on PATH; rendering checks skipped (apt-get install graphviz)"
        }

        test "ScottPlot charts write PNG and SVG headlessly" {
            let bars = varianceChart ()
            Expect.isTrue (isPng (bars.Png())) "variance bars PNG"
            let curve = Charts.TrainingCurve([| for i in 0 .. 99 -> 10.0 / float (i + 1) + 0.1 * sin (float i) |], window = 10)
            Expect.isTrue (isPng (curve.Png())) "training curve PNG"
            Expect.stringContains (curve.Svg()) "<svg" "training curve SVG"
            let returns = Charts.ReturnCurve([| for i in 0 .. 49 -> float i * 4.0 + 10.0 * cos (float i) |])
            withTemp (fun dir ->
                let path = Path.Combine(dir, "returns.png")
                returns.Save path
                Expect.isTrue (isPng (File.ReadAllBytes path)) "return curve written as PNG"
                let svgPath = Path.Combine(dir, "returns.svg")
                returns.Save svgPath
                Expect.stringContains (File.ReadAllText svgPath) "<svg" "and as SVG")
            let fit = Scg.Linq.FitResult([| 3.0; 2.0; 1.5 |], 0, 3, TimeSpan.FromSeconds 1.0, Scg.Linq.FitStop.Steps)
            Expect.isTrue (isPng ((Charts.TrainingCurve fit).Png())) "from a FitResult"
            let ex = thrown<ArgumentException> (fun () -> Charts.VarianceBars([| "a"; "b" |], [| 1.0 |]) |> ignore)
            Expect.stringContains ex.Message "one variance per estimator" "mismatched lengths"
            let ex = thrown<ArgumentException> (fun () -> Charts.VarianceBars([| "a"; "b" |], [| 1.0; 0.0 |]) |> ignore)
            Expect.stringContains ex.Message "'b'" "a non-positive value on a log scale names the estimator"
        }

        test "HTML for notebooks: trace, distribution, objective, chart" {
            let tr = lectureTrace ()
            let html = Html.Of tr
            Expect.stringContains html "<table><tr><th>score-function site</th>" "credit table"
            Expect.stringContains html "<td>k</td><td>y, c, penalty</td>" "k's credit"
            if Graphviz.IsAvailable() then Expect.stringContains html "<svg" "inline SVG"
            else Expect.stringContains html "flowchart TD" "Mermaid without Graphviz"
            Expect.isFalse (html.Contains "<?xml") "no XML prolog inside HTML"
            let d = Html.Of(Normal(vec [| 0.5; 1.0; 2.0 |], f64 1.0) :> Distribution)
            Expect.stringContains d "Normal" "family"
            Expect.stringContains d "[3]" "batch shape"
            Expect.stringContains d "Loc" "parameter name"
            Expect.stringContains d "[0.5, 1, 2]" "parameter values"
            let b = Html.Of(Dist.BernoulliLogits(torch.zeros(10L, dtype = torch.ScalarType.Float64)) :> Distribution)
            Expect.stringContains b ", …]" "long parameters are cut"
            Expect.stringContains b "score function" "not reparameterised"
            let o = Html.Of(Surrogate.Build tr :> Scg.Objectives.IObjective)
            Expect.stringContains o "SurrogateObjective" "objective kind"
            Expect.stringContains o "value (minimised)" "value row"
            let c = Html.Of(Charts.ReturnCurve([| 1.0; 2.0; 3.0 |]))
            Expect.stringStarts c "<img" "chart as an image"
            Expect.stringContains c "data:image/png;base64,iVBOR" "inline PNG"
            // the notebook extension's single entry point dispatches to the same overloads
            Expect.equal (Html.OfValue(box tr)) html "OfValue of a trace"
            Expect.equal (Html.OfValue(box (Surrogate.Build tr))) o "OfValue of an objective"
            for t in Html.DisplayedTypes do
                Expect.isTrue (t.Assembly.GetName().Name.StartsWith "Scg") (sprintf "%s is Scg's" t.Name)
            let ex = thrown<ArgumentException> (fun () -> Html.OfValue(box 3) |> ignore)
            Expect.stringContains ex.Message "not Int32" "another type is refused by name"
        }

        test "image grids: layout, shades and scale read back from the PNG; bad shapes and NaN refused" {
            // three 2×3 images, two to a row: ink 1 → black, 0 → white, 0.5 → mid grey; a value of 2 is clamped
            let images = torch.tensor([| 1.0f; 0.0f; 0.0f; 0.0f; 0.0f; 2.0f
                                         0.5f; 0.5f; 0.5f; 0.5f; 0.5f; 0.5f
                                         0.0f; 1.0f; 0.0f; 0.0f; 0.0f; 0.0f |]).reshape(3L, 2L, 3L)
            let grid = ImageGrid.Of(images, columns = 2, scale = 2)
            Expect.equal (grid.Width, grid.Height, grid.Count) ((2 * (3 + 2) + 2) * 2, (2 * (2 + 2) + 2) * 2, 3) "size: pads of 2, scale 2"
            let png = grid.Png()
            Expect.isTrue (isPng png) "PNG magic bytes"
            use bitmap = SkiaSharp.SKBitmap.Decode png
            let shade (x: int) (y: int) = int (bitmap.GetPixel(x, y).Red)
            Expect.equal (bitmap.Width, bitmap.Height) (grid.Width, grid.Height) "decoded size"
            // image i's pixel (r, c) starts at ((pad + col(i)·(w + pad) + c)·scale, (pad + row(i)·(h + pad) + r)·scale)
            let at i r c = shade ((2 + (i % 2) * 5 + c) * 2 + 1) ((2 + (i / 2) * 4 + r) * 2 + 1)
            Expect.equal (at 0 0 0) 0 "image 0, pixel (0, 0): ink"
            Expect.equal (at 0 0 1) 255 "image 0, pixel (0, 1): paper"
            Expect.equal (at 0 1 2) 0 "image 0, pixel (1, 2): 2 clamped to full ink"
            Expect.isTrue (abs (at 1 1 1 - 128) <= 1) (sprintf "image 1 is mid grey: %d" (at 1 1 1))
            Expect.equal (at 2 0 1) 0 "image 2 on the second row"
            Expect.equal (shade 1 1) 255 "the padding is white"
            Expect.equal (shade (grid.Width - 2) (grid.Height - 2)) 255 "the empty fourth cell is white"
            let flat = ImageGrid.Of(torch.rand(5L, 16L), columns = 5, scale = 1)
            Expect.equal (flat.Width, flat.Height) (5 * 6 + 2, 4 + 4) "[N, D] with D = 16: 4×4 images"
            Expect.stringStarts (Html.Of flat) "<img" "notebook HTML"
            let ex = thrown<ArgumentException> (fun () -> ImageGrid.Of(torch.rand(2L, 15L), 2) |> ignore)
            Expect.stringContains ex.Message "15 pixels" "a non-square row length"
            let ex = thrown<ArgumentException> (fun () -> ImageGrid.Of(torch.rand(4L), 2) |> ignore)
            Expect.stringContains ex.Message "[N, H, W]" "a vector"
            let withNaN = torch.zeros(2L, 4L)
            withNaN.[1L, 3L] <- torch.tensor nan
            let ex = thrown<ArgumentException> (fun () -> ImageGrid.Of(withNaN, 2) |> ignore)
            Expect.stringContains ex.Message "image 1 holds NaN (pixel 3)" "NaN names the image"
            let dir = Directory.CreateTempSubdirectory("scg-grid").FullName
            try
                grid.Save(Path.Combine(dir, "grid.png"))
                Expect.isTrue (isPng (File.ReadAllBytes(Path.Combine(dir, "grid.png")))) "written"
                let ex = thrown<ArgumentException> (fun () -> grid.Save(Path.Combine(dir, "grid.svg")))
                Expect.stringContains ex.Message "PNG only" "SVG refused"
            finally Directory.Delete(dir, true)
        }

        test "docs pictures (written when SCG_PICTURES_OUT names a folder)" {
            match Environment.GetEnvironmentVariable "SCG_PICTURES_OUT" with
            | null | "" -> ()
            | dir ->
                Directory.CreateDirectory dir |> ignore
                let tr = lectureTrace ()
                File.WriteAllText(Path.Combine(dir, "trace.dot"), TraceFormat.ToDot tr)
                TracePictures.Save(tr, Path.Combine(dir, "trace.svg"))
                TracePictures.Save(tr, Path.Combine(dir, "trace.png"))
                (varianceChart ()).Save(Path.Combine(dir, "variance.png"))
        }
    ]
