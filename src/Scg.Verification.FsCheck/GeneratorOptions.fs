namespace Scg.Verification

open System

/// Which distributions the plated generator may draw for a sample site.
[<Flags>]
type SiteKinds =
    /// No site kind (the generated programs then hold only costs and observations).
    | None = 0
    /// Bernoulli sites (logit affine in θ and earlier discrete sites; score function or enumeration).
    | Bernoulli = 1
    /// Categorical sites over three classes (each logit affine in θ and earlier discrete sites).
    | Categorical = 2
    /// Normal sites (mean affine in θ and earlier sites, scale constant or exp of θ and discrete sites).
    | Normal = 4
    /// Bernoulli and Categorical.
    | Discrete = 3
    /// Every kind.
    | All = 7

/// Which estimators the generator may give a Normal site (discrete sites always use the score function).
[<Flags>]
type NormalEstimators =
    /// Reparameterised (pathwise) gradients only.
    | Pathwise = 1
    /// The score function only.
    | ScoreFunction = 2
    /// Either, chosen at random per site (pathwise 60%, score function 40%).
    | Both = 3

/// Size and content controls of the plated generator. Immutable: start from `GeneratorOptions.Default` and change it
/// with the `With…` methods. The default reproduces the generator that Scg's own tests use.
type GeneratorOptions =
    { /// Most sample sites in a program (default 7).
      MaxSites: int
      /// Most nodes (sites, costs, observations, plates, products) in a program (default 16).
      MaxNodes: int
      /// Largest plate size, at least 2 (default 3; plates have 2 to this many elements).
      MaxPlateSize: int
      /// Deepest plate nesting, 1 or 2 (default 2).
      MaxPlateDepth: int
      /// The distributions sites may have (default all).
      SiteKinds: SiteKinds
      /// The estimators Normal sites may have (default both).
      NormalEstimators: NormalEstimators
      /// Whether programs may hold independent products, Model.Zip (default true).
      AllowProducts: bool
      /// Whether observations (Model.Observe of a Normal) may occur (default true).
      AllowObservations: bool
      /// Whether sites and observations may have an extra batch or event dimension beyond their plates (default true).
      AllowExtraDimensions: bool
      /// Cap on the binary digits of all discrete elements together, which the oracle enumerates (default 10).
      MaxDiscreteBits: float
      /// Cap on the number of Normal elements (default 24).
      MaxNormalElements: int }

    /// The options of Scg's own tests: up to 7 sites, 16 nodes, plates of 2–3 nested two deep, every site kind and
    /// estimator, products, observations and extra dimensions.
    static member Default =
        { MaxSites = 7; MaxNodes = 16; MaxPlateSize = 3; MaxPlateDepth = 2; SiteKinds = SiteKinds.All
          NormalEstimators = NormalEstimators.Both; AllowProducts = true; AllowObservations = true
          AllowExtraDimensions = true; MaxDiscreteBits = 10.0; MaxNormalElements = 24 }

    /// Small programs for cheap properties: up to 3 sites and 8 nodes, plates of 2, at most 6 discrete binary digits.
    static member Small =
        { GeneratorOptions.Default with MaxSites = 3; MaxNodes = 8; MaxPlateSize = 2; MaxDiscreteBits = 6.0; MaxNormalElements = 8 }

    /// These options with at most `n` sample sites (n ≥ 0).
    member o.WithMaxSites(n: int) =
        if n < 0 then invalidArg "n" (sprintf "MaxSites must be at least 0, got %d." n)
        { o with MaxSites = n }

    /// These options with at most `n` nodes (n ≥ 1).
    member o.WithMaxNodes(n: int) =
        if n < 1 then invalidArg "n" (sprintf "MaxNodes must be at least 1, got %d." n)
        { o with MaxNodes = n }

    /// These options with plates of 2 to `n` elements (n ≥ 2).
    member o.WithMaxPlateSize(n: int) =
        if n < 2 then invalidArg "n" (sprintf "MaxPlateSize must be at least 2 (plates have 2 or more elements), got %d." n)
        { o with MaxPlateSize = n }

    /// These options with plates nested at most `n` deep (1 or 2).
    member o.WithMaxPlateDepth(n: int) =
        if n < 1 || n > 2 then invalidArg "n" (sprintf "MaxPlateDepth must be 1 or 2, got %d." n)
        { o with MaxPlateDepth = n }

    /// These options with the given site kinds.
    member o.WithSiteKinds(kinds: SiteKinds) = { o with SiteKinds = kinds }

    /// These options with the given estimators for Normal sites (Pathwise, ScoreFunction or Both).
    member o.WithNormalEstimators(estimators: NormalEstimators) =
        if int estimators &&& 3 = 0 then invalidArg "estimators" "NormalEstimators needs Pathwise, ScoreFunction or Both."
        { o with NormalEstimators = estimators }

    /// These options with or without independent products.
    member o.WithProducts(allow: bool) = { o with AllowProducts = allow }

    /// These options with or without observations.
    member o.WithObservations(allow: bool) = { o with AllowObservations = allow }

    /// These options with or without extra batch and event dimensions.
    member o.WithExtraDimensions(allow: bool) = { o with AllowExtraDimensions = allow }

    /// These options with at most `bits` binary digits of discrete elements (the oracle enumerates 2^bits rows).
    member o.WithMaxDiscreteBits(bits: float) =
        if bits < 0.0 || bits > 16.0 then invalidArg "bits" (sprintf "MaxDiscreteBits must lie in [0, 16] (the oracle enumerates 2^bits rows), got %g." bits)
        { o with MaxDiscreteBits = bits }
