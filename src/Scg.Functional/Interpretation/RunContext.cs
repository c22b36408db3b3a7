using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Scg.Distributions;
using Scg.Estimators;
using Scg.Tracing;
using static TorchSharp.torch;

namespace Scg.Interpretation;

/// <summary>
/// The mutable state of one run (private to the interpreter that owns it): the random source, the parameter
/// store, the replayed values, the open plates and independent products, and the trace being recorded.
/// </summary>
internal sealed partial class RunContext
{
    private readonly Generator? generator;
    private readonly ParamStore store;
    private readonly IReadOnlyDictionary<string, Tensor>? replay;
    private readonly bool validate;
    private readonly List<TraceNode> nodes = [];

    /// <summary>The node recorded last, or null before the first (to say where a run failed).</summary>
    public TraceNode? LastRecorded => nodes.Count == 0 ? null : nodes[^1];
    private readonly HashSet<string> names = new(StringComparer.Ordinal);
    private readonly HashSet<string> paramsRead = new(StringComparer.Ordinal);
    private readonly HashSet<string> sampledNames = new(StringComparer.Ordinal);
    private int replayedSites;
    private readonly Dictionary<string, PlateFrame> platesByName = new(StringComparer.Ordinal);
    private readonly List<PlateFrame> plates = [];
    private ImmutableArray<PlateFrame> active = [];
    private ulong activeMask;
    private long[] frameShape = [];
    private BranchPath? branch;
    private readonly TraceBlock root = new();
    private TraceBlock block;
    private int products;

    public RunContext(Generator? generator, ParamStore store, IReadOnlyDictionary<string, Tensor>? replay, bool validate)
    {
        this.generator = generator;
        this.store = store;
        this.replay = replay;
        this.validate = validate;
        block = root;
    }

    /// <summary>The deepest batch dimension any node used, for placing the particle dimension.</summary>
    public int MaxBatchRank { get; private set; }

    /// <summary>A dimension that no plate may take (the particle dimension), or 0.</summary>
    public int ReservedDim { get; init; }

    /// <summary>True when the particle dimension was placed by a dry run without particles (MaxPlateNesting unset).</summary>
    public bool NestingMeasured { get; init; }

    /// <summary>What to do when something reaches the particle dimension, given how it was placed.</summary>
    private string NestingAdvice(long atLeast) => NestingMeasured
        ? $"MaxPlateNesting was measured as {-ReservedDim - 1} by a run without particles, so the model adds batch dimensions only " +
          "when particles are on. With Particles = K every drawn value carries the particle dimension to the left of the plates " +
          "(a value outside plates has shape [K, 1, …, 1], one 1 per plate dimension): do not add dimensions by hand (unsqueeze, " +
          $"reshape) to values that carry it; if the model does need {atLeast} batch dimensions, set RunOptions.MaxPlateNesting = {atLeast}"
        : $"RunOptions.MaxPlateNesting = {-ReservedDim - 1} is too low for this model: set it to at least {atLeast} (the number of " +
          "batch dimensions the model uses itself), or leave it unset to have it measured";

    public ParamStore Store => store;

    /// <summary>
    /// The continuation stack of the program interpreter (<see cref="Step.Execute"/>): binds, maps and the open
    /// plates, products and repeats. When a step throws, the interpreter pops what the run left on it and
    /// restores the plates and product branches, as if the scopes had been left normally.
    /// </summary>
    public Stack<Frame> Continuations { get; } = new(32);   // room for a typical model's binds without regrowing

    /// <summary>The run's estimator overrides (<see cref="RunOptions.Estimators"/>), if any.</summary>
    public EstimatorOverrides? Overrides { get; init; }

    /// <summary>The run's <see cref="RunOptions.SiteValues"/>, if any.</summary>
    public Func<string, Distribution, Tensor?>? SiteValues { get; init; }

    /// <summary>True when the run was given its store rather than a fresh one.</summary>
    public bool StoreGiven { get; init; }

    /// <summary>The dimension of the run's first enumerated site (the next to the left of the plates and the
    /// particle dimension), or 0 when the plate nesting is not known yet.</summary>
    public int EnumBase { get; init; }

    /// <summary>The plate nesting the run places particles and enumeration by, when known.</summary>
    public int? PlateNesting { get; init; }

    /// <summary>A dream (<see cref="Interpreter.Dream{T}"/>): observations are drawn from their distributions, not given.</summary>
    public bool DrawObservations { get; init; }

    /// <summary>A run that only measures the model's batch rank: enumerated sites draw one value instead.</summary>
    public bool DryRun { get; init; }

    public Trace Freeze()
    {
        Overrides?.RequireAllNamesUsed(sampledNames);
        if (replay is not null && replayedSites != replay.Count)
        {
            var extra = replay.Keys.Where(k => !sampledNames.Contains(k)).Select(e => $"'{e}'");
            throw new ArgumentException(
                $"Replay was given values for site(s) the model did not sample: {string.Join(", ", extra)}.");
        }
        return new Trace(PlateRank.Align(nodes, Math.Max(PlateRank.Of(plates), EnumRank)), [.. plates], root, validate)
        {
            Store = store, StoreGiven = StoreGiven, HasEnumeration = enumerated.Count > 0,
            PlateNesting = ReservedDim != 0 || enumerated.Count > 0 ? PlateNesting : null,
        };
    }

    /// <summary>The open name scopes' prefix, each followed by '/' (<see cref="Model.Scope{T}"/>); empty outside scopes.</summary>
    private string namePrefix = "";

    /// <summary>Opens a name scope; returns the prefix <see cref="ExitNameScope"/> restores.</summary>
    public string EnterNameScope(string prefix)
    {
        var outer = namePrefix;
        namePrefix = outer + prefix + "/";
        return outer;
    }

    /// <summary>Closes a name scope (normally or because its body threw).</summary>
    public void ExitNameScope(string outer) => namePrefix = outer;

    /// <summary>A name given inside the open name scopes, as the trace and the store know it.</summary>
    public string Qualify(string name) => namePrefix.Length == 0 ? name : namePrefix + name;

    public Tensor Sample(string name, Distribution dist, SiteEstimator estimator)
    {
        name = Qualify(name);
        if (guideValues is not null && !inGuide) return GuidedLatent(name, dist);
        Claim(name, "Sample");
        ArgumentNullException.ThrowIfNull(dist);
        if (validate && dist.ParameterError() is { } error)
            throw new ArgumentException($"Sample site '{name}': invalid {dist.Name} parameters: {error}.");
        var resolved = (Overrides?.Find(name, dist) ?? estimator).Resolve(name, dist);
        if (resolved is ScoreFunctionEstimator { Baseline: LearnedBaseline learned })
            store.GetOrAddModule(learned.Name, learned.Module);   // so that an optimizer over the store trains it
        dist = ExpandToPlates(name, dist, out var batchShape);
        var chosen = DryRun ? null : SiteValues?.Invoke(name, dist);
        var enumerate = resolved is EnumerateEstimator && replay is null && chosen is null && !DryRun;
        if (resolved is EnumerateEstimator && !enumerate) resolved = SiteEstimator.ScoreFunction;
        Tensor value;
        Tensor? lp = null;
        var replayed = false;
        var enumDim = 0;
        if (enumerate)
        {
            (value, enumDim) = Enumerate(name, dist, batchShape);
            batchShape = Shapes.Broadcast(value.shape[..^dist.EventShape.Length], batchShape);
        }
        else if (chosen is not null)
        {
            value = chosen;
            replayed = true;
            if (replay?.ContainsKey(name) == true) replayedSites++;
            CheckValueShape(name, "Sample site given by RunOptions.SiteValues", dist, batchShape, value);
            CheckSupport(name, "Sample site given by RunOptions.SiteValues", dist, value);
        }
        else if (replay is not null)
        {
            if (!replay.TryGetValue(name, out var given))
                throw new ArgumentException($"Replay has no value for sample site '{name}'.");
            value = given;
            replayed = true;
            replayedSites++;
            CheckValueShape(name, "Replayed sample site", dist, batchShape, value);
            CheckSupport(name, "Replayed sample site", dist, value);
        }
        else if (resolved is ScoreFunctionEstimator)
        {
            // its Draw is Sample; the family may share work between the draw and its log-probability
            (value, lp) = dist.SampleWithLogProb(generator);
        }
        else
        {
            value = resolved.Draw(dist, generator);
        }
        lp ??= dist.LogProb(value);
        sampledNames.Add(name);
        // a drawn value has the distribution's batch shape; a replayed one was checked to broadcast to it
        var lpShape = batchShape;
        var reduced = PlateReduction.KeepPlates(lp, lpShape, active, out var reducedShape, EnumRank, enumDims);
        Record(new SampleNode
        {
            Name = name, Index = nodes.Count, Plates = active, PlateMask = activeMask, Branch = branch,
            Distribution = dist, Value = value, LogProb = lp, Estimator = resolved, IsReplayed = replayed,
            Reduced = reduced, ReducedShape = reducedShape, EnumeratedDim = enumDim,
        }, lpShape.Length);
        if (inGuide)
        {
            guideValues![name] = value;
            var (logQ, term) = GuideLogQ(name, dist, value, resolved, reduced, lpShape);
            if (guideSites is not null) guideSites[name] = (dist, logQ, term);   // log q(z) is decided at the model's site
            else Cost(name + "@q", logQ, term, name);   // log q(z): the guide's part of the negative ELBO
        }
        return value;
    }

    public Tensor Observe(string name, Distribution dist, Tensor value) => Observe(Qualify(name), dist, value, replaysGuide: false);

    /// <summary>An observation; <paramref name="replaysGuide"/> marks a guided run's model latent, observed at the guide's value.</summary>
    private Tensor Observe(string name, Distribution dist, Tensor value, bool replaysGuide)
    {
        Claim(name, "Observe");
        ArgumentNullException.ThrowIfNull(dist);
        ArgumentNullException.ThrowIfNull(value);
        if (validate && dist.ParameterError() is { } error)
            throw new ArgumentException($"Observe site '{name}': invalid {dist.Name} parameters: {error}.");
        dist = ExpandToPlates(name, dist, out var lpShape);
        if (DrawObservations)
        {
            value = dist.Sample(generator);   // a dream: the observation is drawn from the model
        }
        else
        {
            CheckValueShape(name, "Observe site", dist, lpShape, value);
            CheckSupport(name, "Observe site", dist, value);
        }
        if (enumerated.Count > 0) lpShape = Shapes.Broadcast(value.shape[..^dist.EventShape.Length], lpShape);
        var lp = dist.LogProb(value);
        var reduced = PlateReduction.KeepPlates(lp, lpShape, active, out var reducedShape, EnumRank, enumDims);
        Record(new ObserveNode
        {
            Name = name, Index = nodes.Count, Plates = active, PlateMask = activeMask, Branch = branch,
            Distribution = dist, Value = value, LogProb = lp,
            Reduced = Scaled(reduced), ReducedShape = reducedShape, ReplaysGuide = replaysGuide,
        }, lpShape.Length);
        return value;
    }

    public Tensor Cost(string name, Tensor value) => Cost(Qualify(name), value, GuideTerm.None, null);

    /// <summary>A cost; in a guided run, tagged with the guide term it stands for and the guide site it belongs to.</summary>
    private Tensor Cost(string name, Tensor value, GuideTerm term, string? guideSite)
    {
        Claim(name, "Cost");
        ArgumentNullException.ThrowIfNull(value);
        var shape = value.shape;
        var extra = shape.Length - frameShape.Length;
        // a cost downstream of enumerated sites carries their dimensions to the left of the plates
        var enumeratedCost = extra > 0 && enumerated.Count > 0 && !LeadingOnes(shape, extra) && EnumFits(shape, extra);
        if (enumeratedCost && shape.Length > Math.Max(EnumRank, frameShape.Length)) shape = shape[(shape.Length - Math.Max(EnumRank, frameShape.Length))..];
        var squeezed = !enumeratedCost && extra > 0 && LeadingOnes(shape, extra);
        if (squeezed)
        {
            // a sum with keepdim: true over the plates' dimensions; the same code then works with and without particles
            shape = shape[(shape.Length - frameShape.Length)..];
        }
        var fits = enumeratedCost || shape.Length <= frameShape.Length;
        for (var i = 1; fits && i <= Math.Min(shape.Length, frameShape.Length); i++)
            fits = shape[^i] == frameShape[^i] || shape[^i] == 1;
        if (!fits)
            throw new ArgumentException(
                $"Cost '{name}' has shape [{Shapes.Format(shape)}], which does not broadcast to its plates' shape " +
                $"[{Shapes.Format(frameShape)}] ({(active.IsEmpty ? "no plates" : string.Join(", ", active))}); reduce the other dimensions first" +
                (ReservedDim != 0 && shape.Length >= -ReservedDim ? $". {NestingAdvice(shape.Length)}." : ".") +
                (enumerated.Count > 0
                    ? " Enumerated site(s) " + string.Join(", ", enumerated.Select(e => $"'{e.Name}' (dim {e.Dim}, {e.Size} values)")) +
                      " lay their values left of the plates; a sum over a plate's dimension without keepdim: true shifts them into the " +
                      "plates' place. Sum over plates with keepdim: true, and never over an enumeration dimension."
                    : ""));
        var target = enumeratedCost ? Shapes.Broadcast(shape, frameShape) : frameShape;
        var expanded = squeezed || enumeratedCost ? value.reshape(shape).expand(target) : Shapes.Equal(shape, frameShape) ? value : value.expand(frameShape);
        Record(new CostNode
        {
            Name = name, Index = nodes.Count, Plates = active, PlateMask = activeMask, Branch = branch, Value = expanded,
            Reduced = Scaled(expanded), ReducedShape = target, GuideTerm = term, GuideSite = guideSite,
        }, frameShape.Length);
        return value;
    }

    public Tensor Param(string name, Func<Tensor> init)
    {
        name = Qualify(name);
        var p = store.GetOrCreate(name, init);
        if (paramsRead.Add(name))
            nodes.Add(new ParamNode { Name = name, Index = nodes.Count, Plates = active, PlateMask = activeMask, Branch = branch, Value = p });
        return p;
    }

    /// <summary>
    /// Opens plate <paramref name="name"/> for the body about to run (<see cref="PlateStep"/>); returns what
    /// <see cref="ExitPlate"/> restores when the body's value arrives (or when it throws).
    /// </summary>
    public PlateExit EnterPlate(string name, long size, int? dim, double scale = 1.0)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), $"Plate '{name}' must have a positive size (got {size}).");
        if (active.Any(p => p.Name == name)) throw new ArgumentException($"Plate '{name}' is already open; plates cannot nest inside themselves.");
        var d = dim ?? FreeDim();
        if (d >= 0) throw new ArgumentOutOfRangeException(nameof(dim), $"Plate '{name}': dim must be negative (counted from the right), got {d}.");
        CheckPlate(name, d, explicitDim: dim is not null);
        if (active.Any(p => p.Dim == d))
            throw new ArgumentException($"Plate '{name}' asks for dim {d}, already taken by plate '{active.First(p => p.Dim == d).Name}'.");
        if (!platesByName.TryGetValue(name, out var frame))
        {
            if (plates.Count == 64) throw new InvalidOperationException("A run may open at most 64 distinct plates.");
            frame = new PlateFrame(name, size, d, plates.Count) { Scale = scale };
            platesByName[name] = frame;
            plates.Add(frame);
        }
        else if (frame.Scale != scale)
            throw new ArgumentException(
                $"Plate '{name}' was opened with subsample scale N/B = {frame.Scale:G4} and is now reopened with {scale:G4} " +
                "(1 is a plain Model.Plate). Every opening of a plate, in a guide and its model alike, must be the same kind: " +
                "use Model.Subsample with the same N and B in each, or Model.Plate in each.");
        else if (frame.Size != size || frame.Dim != d)
            throw new ArgumentException($"Plate '{name}' was reopened as size {size} at dim {d}, but it is {frame.Size} at dim {frame.Dim}.");

        var exit = new PlateExit(active, activeMask, frameShape);
        active = active.Add(frame);
        activeMask |= 1UL << frame.Id;
        frameShape = FrameShape(active);
        return exit;
    }

    /// <summary>Closes the plate <see cref="EnterPlate"/> opened: restores the plates open before it.</summary>
    public void ExitPlate(PlateExit exit) => (active, activeMask, frameShape) = (exit.Active, exit.Mask, exit.Shape);

    /// <summary>Starts an independent product of <paramref name="operands"/> branches (<see cref="ProductStep"/>).</summary>
    public ProductMark EnterProduct(int operands) => new(products++, block, branch, new TraceBlock[operands]);

    /// <summary>Starts branch <paramref name="index"/> of <paramref name="product"/>: a new block and branch path.</summary>
    public void EnterBranch(ProductMark product, int index)
    {
        branch = new BranchPath(product.Id, index, product.ParentBranch);
        product.Branches[index] = block = new TraceBlock { Path = branch };
    }

    /// <summary>Ends <paramref name="product"/> after its last branch: records it in the enclosing block.</summary>
    public void ExitProduct(ProductMark product)
    {
        AbandonProduct(product);
        block.Items.Add(new BlockItem(-1, product.Branches));
    }

    /// <summary>Leaves <paramref name="product"/> because a branch threw: restores the enclosing block and branch.</summary>
    public void AbandonProduct(ProductMark product) => (block, branch) = (product.ParentBlock, product.ParentBranch);

    /// <summary>A cost or log-likelihood times the subsample scales of the open plates (N / B each).</summary>
    private Tensor Scaled(Tensor t)
    {
        var scale = 1.0;
        foreach (var p in active) scale *= p.Scale;
        if (scale == 1.0) return t;
        using TorchSharp.Scalar factor = scale;
        return t.mul(factor);
    }

    /// <summary>B indices drawn without replacement from 0 … N − 1 with the run's generator (int64), once per plate name and
    /// run: a plate subsampled again in the same run (reopened, or in a guide and then its model) gets the same ones.</summary>
    public Tensor SubsampleIndices(string name, long size, long subsampleSize)
    {
        if (subsampleSize < 1 || subsampleSize > size)
            throw new ArgumentOutOfRangeException(nameof(subsampleSize),
                $"Plate '{name}': the subsample size must lie in 1 … {size} (got {subsampleSize}).");
        // one minibatch per plate and run: a reopened plate, and a guide's plate and its model's, share elements
        if (subsamples.TryGetValue(name, out var drawn))
        {
            if (drawn.Size != size || drawn.SubsampleSize != subsampleSize)
                throw new ArgumentException(
                    $"Plate '{name}' was subsampled earlier in this run as {drawn.SubsampleSize} of {drawn.Size} and now as {subsampleSize} " +
                    $"of {size}; every opening of a subsampled plate (in a guide and its model too) must give the same sizes.");
            return drawn.Indices;
        }
        using var permutation = randperm(size, generator: generator);
        var indices = permutation.narrow(0, 0, subsampleSize).clone();
        subsamples[name] = (size, subsampleSize, indices);
        return indices;
    }

    private readonly Dictionary<string, (long Size, long SubsampleSize, Tensor Indices)> subsamples = new(StringComparer.Ordinal);

    private static bool LeadingOnes(long[] shape, int count)
    {
        for (var i = 0; i < count; i++) if (shape[i] != 1) return false;
        return true;
    }

    private void Claim(string name, string kind)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!names.Add(name))
            throw new ArgumentException(
                $"{kind} site '{name}' was recorded twice in one run; site names must be unique. A sub-model used twice " +
                "records its sites twice: run each use in a scope of its own (Model.Scope(\"first\", sub) and Model.Scope(\"second\", sub) " +
                "record first/… and second/…), build it from a function of a name (Coin(\"c1\") and Coin(\"c2\")), or use " +
                "Model.Plate for repeats that are independent and identically distributed.");
    }

    private void Record(TraceNode node, int rank)
    {
        nodes.Add(node);
        block.Items.Add(new BlockItem(node.Index, null));
        if (rank > MaxBatchRank) MaxBatchRank = rank;
    }

    private Distribution ExpandToPlates(string name, Distribution dist, out long[] batchShape)
    {
        var batch = dist.BatchShape;
        batchShape = batch;
        if (active.IsEmpty) return dist;
        if (ReservedDim != 0 && batch.Length > -ReservedDim && !(batch.Length <= EnumRank && EnumFits(batch, batch.Length + ReservedDim)))
            throw NestingTooLow(name, batch);
        foreach (var p in active)
        {
            var i = batch.Length + p.Dim;
            if (i >= 0 && batch[i] != 1 && batch[i] != p.Size)
                throw p.IsParticles ? NestingTooLow(name, batch) : new ArgumentException(
                    $"Site '{name}': batch shape [{Shapes.Format(batch)}] has size {batch[i]} at dim {p.Dim}, but plate '{p.Name}' there has size {p.Size}.");
        }
        var target = Shapes.Broadcast(batch, frameShape);
        for (var i = 0; i < target.Length - frameShape.Length; i++)
            if (target[i] != 1 && !IsEnumerated(i - target.Length, target[i]))
                throw new ArgumentException(
                    $"Site '{name}': batch shape [{Shapes.Format(batch)}] has a dimension of size {target[i]} to the left of its plates " +
                    $"({string.Join(", ", active)}), which no plate accounts for: its elements would not be credited element by element, and " +
                    "anything observed through it would be counted once per element. A parameter of shape [N, 1] in a plate of N (the " +
                    "output of nn.Linear(h, 1)) does this: squeeze it; otherwise open a plate for the dimension or move it into the event (ToEvent).");
        if (Shapes.Equal(target, batch)) return dist;
        batchShape = target;
        return dist.Expand(target);
    }

    /// <summary>
    /// Plate checks: the name <c>particles</c> belongs to the interpreter's particle plate (the outermost plate of
    /// a run with <see cref="RunOptions.Particles"/>), and no other plate may reach the particle dimension.
    /// A plate placed automatically skipped the particle dimension, so it needs one dimension fewer.
    /// </summary>
    private void CheckPlate(string name, int dim, bool explicitDim)
    {
        if (name == PlateFrame.ParticlesName && !(ReservedDim != 0 && dim == ReservedDim && active.IsEmpty && plates.Count == 0))
            throw new ArgumentException(
                $"The plate name '{name}' is reserved for the vectorised particles of RunOptions.Particles; give the plate another name.");
        if (ReservedDim == 0 && EnumBase != 0 && dim <= EnumBase)
            throw new ArgumentException(
                $"Plate '{name}' takes dim {dim}, where enumerated sites go (dim {EnumBase} and further left): " +
                $"RunOptions.MaxPlateNesting = {-EnumBase - 1} is too low for this model; set it to at least {-dim}, " +
                "or leave it unset to have it measured.");
        if (ReservedDim != 0 && dim <= ReservedDim && name != PlateFrame.ParticlesName)
            throw new ArgumentException(
                $"Plate '{name}' takes dim {dim}, at or beyond the particle dimension (dim {ReservedDim}). " +
                $"{NestingAdvice(explicitDim ? -dim : -dim - 1)}.");
    }

    private ArgumentException NestingTooLow(string name, long[] batch) => new(
        $"Site '{name}': batch shape [{Shapes.Format(batch)}] reaches the particle dimension (dim {ReservedDim}). {NestingAdvice(batch.Length)}.");

    /// <summary>
    /// Checks that an observed or replayed value broadcasts to the site's batch shape (plates included) followed
    /// by its event shape, with no extra dimensions, so that its log-probability has exactly the batch shape.
    /// </summary>
    private void CheckValueShape(string name, string kind, Distribution dist, long[] batchShape, Tensor value)
    {
        var shape = value.shape;
        var eventShape = dist.EventShape;
        var extra = shape.Length - batchShape.Length - eventShape.Length;
        // a value computed from enumerated sites carries their dimensions to the left (a guide's enumerated latent)
        var fits = extra <= 0 || (enumerated.Count > 0 && EnumFits(shape[..^eventShape.Length], extra));
        for (var i = 1; fits && i <= shape.Length - Math.Max(extra, 0); i++)
        {
            var expected = i <= eventShape.Length ? eventShape[^i] : batchShape[^(i - eventShape.Length)];
            fits = shape[^i] == expected || shape[^i] == 1;
        }
        if (fits) return;
        var hint = kind.StartsWith("Replayed", StringComparison.Ordinal)
            ? "a trace recorded with RunOptions.Particles = K must be replayed with the same Particles"
            : "put the data's batch dimensions in plates of their sizes, move event dimensions into the distribution (ToEvent), or reshape the value";
        if (ReservedDim != 0) hint += $"; the particle dimension is dim {ReservedDim} (RunOptions.MaxPlateNesting = {-ReservedDim - 1})";
        throw new ArgumentException(
            $"{kind} '{name}': the value has shape [{Shapes.Format(shape)}], which does not fit the site's batch shape " +
            $"[{Shapes.Format(batchShape)}] ({(active.IsEmpty ? "no plates" : string.Join(", ", active))}) followed by its event shape " +
            $"[{Shapes.Format(eventShape)}] ({dist.Name}); its log-probability would gain dimensions. Fix: {hint}.");
    }

    private void CheckSupport(string name, string kind, Distribution dist, Tensor value)
    {
        if (!validate) return;
        if (dist.Support.FirstViolation(value) is { } found)
            throw new ArgumentException($"{kind} '{name}': the value lies outside the support of {dist.Name} ({dist.Support.Description}): {found}.");
    }

    private int FreeDim()
    {
        var d = -1;
        while (active.Any(p => p.Dim == d)) d--;
        return d;
    }

    private static long[] FrameShape(ImmutableArray<PlateFrame> frames)
    {
        var rank = frames.Max(p => -p.Dim);
        var shape = Enumerable.Repeat(1L, rank).ToArray();
        foreach (var p in frames) shape[rank + p.Dim] = p.Size;
        return shape;
    }
}

/// <summary>The plate state <see cref="RunContext.ExitPlate"/> restores when a plate closes.</summary>
internal readonly record struct PlateExit(ImmutableArray<PlateFrame> Active, ulong Mask, long[] Shape);

/// <summary>An open independent product: its id, the block and branch around it, and its branches' blocks.</summary>
internal readonly record struct ProductMark(int Id, TraceBlock ParentBlock, BranchPath? ParentBranch, TraceBlock[] Branches);
