namespace Scg.FSharp

/// <summary>
/// Opens the <c>model { … }</c> computation expression with <c>open Scg.FSharp</c>:
/// <code>
/// let m = model {
///     let! z = Model.Sample("z", Normal(mu, sigma))
///     for i in 0 .. 2 do
///         do! Model.cost (sprintf "c%d" i) (z - float i).square()
///     if cond then do! Model.observe "x" (Normal(z, sigma)) x
///     return z }
/// </code>
/// </summary>
[<AutoOpen>]
module ModelExpression =

    /// <summary>The <c>model { … }</c> computation expression; see <see cref="T:Scg.FSharp.ModelExpressionBuilder"/>.</summary>
    let model = ModelExpressionBuilder()
