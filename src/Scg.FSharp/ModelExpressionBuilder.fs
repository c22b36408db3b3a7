namespace Scg.FSharp

open System
open Scg

/// <summary>
/// The builder of the <c>model { … }</c> computation expression (the value <c>model</c> of
/// <see cref="T:Scg.FSharp.ModelExpression"/>). Every member has one signature (no overloads), so F# infers the
/// types of models written without annotations. A <c>model { }</c> value is a description: its body runs, from the
/// start, each time an interpreter runs the model, and every step the body binds is sequenced after the ones before
/// (downstream of their sites), exactly as a chain of <c>Bind</c> calls.
/// </summary>
/// <remarks>
/// Loops run in constant call-stack depth (each iteration is a bind resumed by the interpreter's own loop), so a
/// <c>for</c> or <c>while</c> of any length is safe. Steps whose value is not needed are written <c>do! …</c>: the
/// builder's <c>do!</c> takes a <c>Model&lt;unit&gt;</c>, which <c>Model.cost</c>, <c>Model.observe</c> and
/// <c>Model.ignore</c> (module <see cref="T:Scg.FSharp.ModelModule"/>) return.
/// </remarks>
[<Sealed>]
type ModelExpressionBuilder() =
    static let unitModel : Model<unit> = Model.Return(())

    /// <summary><c>let! x = m</c>: runs <paramref name="model"/>, then the rest of the expression with its value.</summary>
    /// <param name="model">The model to run first.</param>
    /// <param name="continuation">The rest of the expression.</param>
    member _.Bind(model: Model<'T>, continuation: 'T -> Model<'U>) : Model<'U> =
        Model.Bind(model, Func<_, _>(continuation))

    /// <summary>A final <c>let! x = m</c> followed by <c>return e</c>: a map, which records nothing more.</summary>
    /// <param name="model">The model.</param>
    /// <param name="selector">The returned expression.</param>
    member _.BindReturn(model: Model<'T>, selector: 'T -> 'U) : Model<'U> = Model.Map(model, Func<_, _>(selector))

    /// <summary>
    /// <c>let! a = m1 and! b = m2</c>: the independent product of the two models (<c>Scg.Model.Zip</c>); no node of
    /// one is downstream of a site of the other.
    /// </summary>
    /// <param name="first">The first model.</param>
    /// <param name="second">The second model; it cannot see the first's value.</param>
    member _.MergeSources(first: Model<'T1>, second: Model<'T2>) : Model<'T1 * 'T2> =
        Model.Zip(first, second).Map(fun struct (a, b) -> (a, b))

    /// <summary><c>return e</c>: the model that records nothing and returns the value.</summary>
    /// <param name="value">The value.</param>
    member _.Return(value: 'T) : Model<'T> = Model.Return value

    /// <summary><c>return! m</c>: the model itself.</summary>
    /// <param name="model">The model.</param>
    member _.ReturnFrom(model: Model<'T>) : Model<'T> =
        if isNull (box model) then nullArg (nameof model)
        model

    /// <summary>The empty step (an <c>if</c> without <c>else</c>, the end of a loop body): returns <c>()</c>.</summary>
    member _.Zero() : Model<unit> = unitModel

    /// <summary>Wraps a part of the expression so that it is built only when the run reaches it.</summary>
    /// <param name="body">Builds the model.</param>
    member _.Delay(body: unit -> Model<'T>) : unit -> Model<'T> = body

    /// <summary>The whole expression as a model, built afresh each time it runs (<c>Scg.Model.Defer</c>).</summary>
    /// <param name="body">Builds the model.</param>
    member _.Run(body: unit -> Model<'T>) : Model<'T> = Model.Defer(Func<_>(body))

    /// <summary>Sequencing of a unit step and the rest: <c>do! a; b</c>, a loop or <c>if</c> then more.</summary>
    /// <param name="first">The step to run first.</param>
    /// <param name="rest">The rest of the expression.</param>
    member _.Combine(first: Model<unit>, rest: unit -> Model<'T>) : Model<'T> =
        Model.Bind(first, Func<_, _>(fun () -> rest ()))

    /// <summary>
    /// <c>while guard do body</c>: the guard is evaluated when the run reaches the loop and after each iteration;
    /// each iteration is sequenced after the previous one.
    /// </summary>
    /// <param name="guard">Whether to run one more iteration.</param>
    /// <param name="body">One iteration.</param>
    member _.While(guard: unit -> bool, body: unit -> Model<unit>) : Model<unit> =
        let rec loop () : Model<unit> =
            if guard () then Model.Bind(body (), Func<_, _>(fun () -> loop ())) else unitModel
        Model.Defer(Func<_>(loop))

    /// <summary>
    /// <c>for x in xs do body</c>: the iterations run in sequence, each after the previous one (as a chain of binds).
    /// The sequence is read to its end when the run reaches the loop, before the first iteration runs, and again in
    /// every run; the body cannot change which elements the loop visits.
    /// </summary>
    /// <param name="source">The elements; a finite sequence.</param>
    /// <param name="body">One iteration.</param>
    member _.For(source: seq<'T>, body: 'T -> Model<unit>) : Model<unit> =
        if isNull (box source) then nullArg (nameof source)
        Model.Defer(Func<_>(fun () ->
            let items = Seq.toArray source
            let rec from (i: int) : Model<unit> =
                if i < items.Length then Model.Bind(body items.[i], Func<_, _>(fun () -> from (i + 1))) else unitModel
            from 0))

    /// <summary>
    /// <c>try … with e -> …</c>: runs the body; when it throws during the run (a primitive refusing its input, a
    /// failing tensor operation), runs the handler's model instead (<c>Scg.Model.TryCatch</c>). Nodes the body
    /// recorded before it threw stay in the trace; the handler's nodes come after them.
    /// </summary>
    /// <param name="body">The protected part.</param>
    /// <param name="handler">Builds the model to run from the exception.</param>
    member _.TryWith(body: unit -> Model<'T>, handler: exn -> Model<'T>) : Model<'T> =
        Model.TryCatch(Model.Defer(Func<_>(body)), Func<_, _>(handler))

    /// <summary>
    /// <c>try … finally …</c>: runs the finalizer once the body has produced its value or thrown, in each run
    /// (<c>Scg.Model.TryFinally</c>).
    /// </summary>
    /// <param name="body">The protected part.</param>
    /// <param name="finalizer">Runs after the body.</param>
    member _.TryFinally(body: unit -> Model<'T>, finalizer: unit -> unit) : Model<'T> =
        Model.TryFinally(Model.Defer(Func<_>(body)), Action(finalizer))

    /// <summary>
    /// <c>use r = e</c>: disposes the resource when the rest of its block has run, that is when the run has
    /// produced the block's value (or the block threw); not when the model value goes out of scope, since a model
    /// is only a description. The resource expression is evaluated when the run reaches it, so each run of the
    /// model (and an interpreter may run it more than once) creates and disposes its own resource. A resource
    /// created outside the model and merely bound by <c>use</c> inside it is disposed by the first run.
    /// </summary>
    /// <param name="resource">The resource (null is allowed and not disposed).</param>
    /// <param name="body">The rest of the block.</param>
    member _.Using(resource: 'R, body: 'R -> Model<'T>) : Model<'T> when 'R :> IDisposable =
        Model.TryFinally(
            Model.Defer(Func<_>(fun () -> body resource)),
            Action(fun () -> if not (isNull (box resource)) then resource.Dispose()))
