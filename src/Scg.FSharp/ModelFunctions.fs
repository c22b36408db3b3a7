namespace Scg.FSharp

open System
open Scg
open Scg.Distributions
open TorchSharp

/// <summary>
/// F# functions over models, next to the primitives of the C# class <c>Scg.Model</c> (with both <c>Scg</c> and
/// <c>Scg.FSharp</c> open, <c>Model.Sample</c> is the C# primitive and <c>Model.cost</c> this module's function).
/// The steps whose value a model rarely needs (<see cref="M:Scg.FSharp.Model.observe"/>,
/// <see cref="M:Scg.FSharp.Model.cost"/>) return <c>Model&lt;unit&gt;</c>, so they are written <c>do! …</c> in a
/// <c>model { }</c> expression; <see cref="M:Scg.FSharp.Model.ignore"/> turns any other model into one.
/// </summary>
[<RequireQualifiedAccess>]
[<CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Model =

    /// <summary>
    /// The model that runs <paramref name="model"/> and returns <c>()</c>: records the same trace, for <c>do!</c>
    /// of a model whose value is not needed (<c>do! Model.Sample("z", d) |> Model.ignore</c>).
    /// </summary>
    /// <param name="model">The model to run.</param>
    let ignore (model: Model<'T>) : Model<unit> =
        if isNull (box model) then nullArg (nameof model)
        model.Map(fun _ -> ())

    /// <summary>A sample site with the estimator chosen by the distribution (<c>Scg.Model.Sample</c>): the drawn value.</summary>
    /// <param name="name">The site's name, unique in a run.</param>
    /// <param name="distribution">The distribution to draw from (expanded to the enclosing plates).</param>
    let sample (name: string) (distribution: Distribution) : Model<torch.Tensor> = Scg.Model.Sample(name, distribution)

    /// <summary>
    /// An observation (<c>Scg.Model.Observe</c>): conditions <paramref name="distribution"/> on
    /// <paramref name="value"/>, whose negative log-probability enters the objective as a cost. Returns <c>()</c>;
    /// use <c>Model.Observe</c> for the value.
    /// </summary>
    /// <param name="name">The site's name, unique in a run.</param>
    /// <param name="distribution">The likelihood.</param>
    /// <param name="value">The observed value (shape rules as for <c>Scg.Model.Observe</c>).</param>
    let observe (name: string) (distribution: Distribution) (value: torch.Tensor) : Model<unit> =
        ignore (Scg.Model.Observe(name, distribution, value))

    /// <summary>
    /// A cost node to minimise (<c>Scg.Model.Cost</c>; element by element inside plates). Returns <c>()</c>; use
    /// <c>Model.Cost</c> for the value.
    /// </summary>
    /// <param name="name">The node's name, unique in a run.</param>
    /// <param name="value">The cost tensor.</param>
    let cost (name: string) (value: torch.Tensor) : Model<unit> = ignore (Scg.Model.Cost(name, value))

    /// <summary>The learnable parameter <paramref name="name"/> of the run's store, created by <paramref name="init"/> on first use.</summary>
    /// <param name="name">The parameter's name.</param>
    /// <param name="init">Produces the initial value (called once per store).</param>
    let param (name: string) (init: unit -> torch.Tensor) : Model<torch.Tensor> = Scg.Model.Param(name, Func<_>(init))

    /// <summary>Runs <paramref name="body"/> inside the plate <paramref name="name"/> of <paramref name="size"/> elements (<c>Scg.Model.Plate</c>).</summary>
    /// <param name="name">The plate's name.</param>
    /// <param name="size">The number of elements.</param>
    /// <param name="body">The model run inside the plate.</param>
    let plate (name: string) (size: int64) (body: Model<'T>) : Model<'T> = Scg.Model.Plate(name, size, body)

    /// <summary>Runs <paramref name="body"/> with <paramref name="prefix"/>/ in front of its site, parameter and module names
    /// (<c>Scg.Model.Scope</c>), so one sub-model can be used twice.</summary>
    /// <param name="prefix">The scope's name: not empty, without '/'.</param>
    /// <param name="body">The model run inside the scope.</param>
    let scope (prefix: string) (body: Model<'T>) : Model<'T> = Scg.Model.Scope(prefix, body)

    /// <summary>The model that applies <paramref name="f"/> to the value of <paramref name="model"/>.</summary>
    /// <param name="f">A deterministic function of the value.</param>
    /// <param name="model">The model.</param>
    let map (f: 'T -> 'U) (model: Model<'T>) : Model<'U> =
        if isNull (box model) then nullArg (nameof model)
        model.Map(Func<_, _>(f))
