using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Scg.Interpretation;

/// <summary>
/// The learnable parameters and modules of a model, by name. Models read them with <c>Model.Param</c> and
/// <c>Model.Module</c>; optimizers take <see cref="Parameters"/>. A parameter is created on its first read
/// and lives outside any dispose scope. Not thread-safe: one training loop owns a store.
/// </summary>
public sealed class ParamStore
{
    private readonly Dictionary<string, Parameter> parameters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, nn.Module> modules = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Tensor> states = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<ParamStoreFile.Entry>> pendingModules = new(StringComparer.Ordinal);

    /// <summary>The named parameters created so far (module parameters excluded).</summary>
    public IReadOnlyDictionary<string, Parameter> Named => parameters;

    /// <summary>The registered modules by name.</summary>
    public IReadOnlyDictionary<string, nn.Module> Modules => modules;

    /// <summary>
    /// Tensors that are kept between steps but not learned by gradient (the moving averages of baselines), by
    /// name; not part of <see cref="Parameters"/>.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> States => states;

    /// <summary>
    /// Every learnable tensor now in the store: the named parameters, then each module's parameters, each once (a module
    /// registered under two names, as a shared module in two scopes is, gives its parameters once). A snapshot:
    /// an optimizer built from it keeps exactly these (TorchSharp's optimizers keep the sequence they are given
    /// and fail on a parameter that appears in it later), so build it after <see cref="Initialize{T}"/>.
    /// </summary>
    public IEnumerable<Parameter> Parameters() =>
        [.. parameters.Values.Concat(modules.Values.SelectMany(m => m.parameters())).Distinct<Parameter>(ReferenceEqualityComparer.Instance)];

    /// <summary>
    /// The parameter called <paramref name="name"/>, created from <paramref name="init"/> on first use. The
    /// initial tensor is copied, detached, made a leaf that requires gradients, and kept out of dispose scopes.
    /// </summary>
    /// <param name="name">The parameter's name.</param>
    /// <param name="init">Produces the initial value; called only when the parameter does not exist yet.</param>
    public Parameter GetOrCreate(string name, Func<Tensor> init)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(init);
        if (parameters.TryGetValue(name, out var existing)) return existing;
        if (modules.ContainsKey(name))
            throw new ArgumentException($"Parameter '{name}' clashes with a module registered under the same name.", nameof(name));
        Tensor initial;
        using (no_grad())
        {
            var value = init() ?? throw new InvalidOperationException($"The initialiser of parameter '{name}' returned null.");
            if (!is_floating_point(value) && !is_complex(value))
                throw new ArgumentException(
                    $"Parameter '{name}': the initial value has type {value.dtype}, but a parameter needs a floating-point " +
                    "type to have gradients; create it with a floating dtype (for example ScalarType.Float32) or convert it with to_type.",
                    nameof(init));
            initial = value.detach().clone();
        }
        var p = new Parameter(initial, requires_grad: true);
        p.DetachFromDisposeScope();
        parameters[name] = p;
        return p;
    }

    /// <summary>
    /// Registers <paramref name="module"/> under <paramref name="name"/> on first use and returns the module
    /// registered under that name (the first one, on later calls).
    /// </summary>
    /// <typeparam name="TModule">The module type.</typeparam>
    /// <param name="name">The module's name.</param>
    /// <param name="module">The module to register when the name is new.</param>
    /// <exception cref="ArgumentException">A module of another type is registered under the name.</exception>
    public TModule GetOrAddModule<TModule>(string name, TModule module) where TModule : nn.Module
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(module);
        if (modules.TryGetValue(name, out var existing))
            return existing as TModule ?? throw new ArgumentException(
                $"Module '{name}' is registered as {existing.GetType().Name}, not {typeof(TModule).Name}.", nameof(name));
        if (parameters.ContainsKey(name))
            throw new ArgumentException($"Module '{name}' clashes with a parameter of the same name.", nameof(name));
        if (pendingModules.Remove(name, out var saved)) LoadModule(name, module, saved);
        modules[name] = module;
        return module;
    }

    /// <summary>
    /// Creates every parameter that <paramref name="model"/> reads, by running it once without gradients (its
    /// trace is discarded, and a generator in <paramref name="options"/> is not advanced), so that an optimizer
    /// can be built over <see cref="Parameters"/> before training. Parameters are created as leaves that require
    /// gradients even when called under <c>no_grad</c>; existing ones are left as they are.
    /// </summary>
    /// <typeparam name="T">The model's value type.</typeparam>
    /// <param name="model">The model whose parameters to create (for example the first step's model).</param>
    /// <param name="options">Run options (particles, validation); their <see cref="RunOptions.Params"/> must be
    /// null or this store.</param>
    /// <returns>This store.</returns>
    /// <exception cref="ArgumentException"><paramref name="options"/> names another store.</exception>
    public ParamStore Initialize<T>(Model<T> model, RunOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= RunOptions.Default;
        if (options.Params is { } other && !ReferenceEquals(other, this))
            throw new ArgumentException("ParamStore.Initialize: options.Params is another store; leave it null or pass this store.", nameof(options));
        Interpreter.InitializeParams(model, options with { Params = this });
        return this;
    }

    /// <summary>The parameter called <paramref name="name"/>.</summary>
    /// <param name="name">The parameter's name.</param>
    /// <exception cref="KeyNotFoundException">No parameter has that name.</exception>
    public Parameter this[string name] =>
        parameters.TryGetValue(name, out var p) ? p : throw new KeyNotFoundException($"The store has no parameter '{name}'.");

    /// <summary>Looks up the state tensor called <paramref name="name"/> (see <see cref="States"/>).</summary>
    /// <param name="name">The state's name.</param>
    /// <param name="state">The tensor, when found; update it in place (under <c>no_grad</c>) or with <see cref="SetState"/>.</param>
    public bool TryGetState(string name, out Tensor state)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return states.TryGetValue(name, out state!);
    }

    /// <summary>
    /// Stores a detached copy of <paramref name="value"/> as the state called <paramref name="name"/>, outside any
    /// dispose scope, replacing an earlier one.
    /// </summary>
    /// <param name="name">The state's name.</param>
    /// <param name="value">The value to keep.</param>
    public void SetState(string name, Tensor value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        Tensor copy;
        using (no_grad()) copy = value.detach().clone();
        copy.DetachFromDisposeScope();
        states[name] = copy;
    }

    /// <summary>
    /// Writes every parameter, state tensor and registered module's state (parameters and buffers) to
    /// <paramref name="stream"/>, so that <see cref="Load(Stream)"/> restores the model's parameters and its baselines'
    /// state. An optimizer's own state (Adam's moments) and a generator's position are not part of the store: save
    /// those with TorchSharp (the optimizer's <c>state_dict</c>) and reseed, or a resumed run differs from an unbroken
    /// one. Tensors are written from the CPU in their own element types.
    /// </summary>
    /// <param name="stream">A writable stream; left open.</param>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var entries = new List<ParamStoreFile.Entry>();
        foreach (var (name, p) in parameters) entries.Add(new(ParamStoreFile.Kind.Parameter, name, "", p));
        foreach (var (name, t) in states) entries.Add(new(ParamStoreFile.Kind.State, name, "", t));
        foreach (var (name, m) in modules)
            foreach (var (key, t) in m.state_dict()) entries.Add(new(ParamStoreFile.Kind.Module, name, key, t));
        ParamStoreFile.Write(stream, entries);
    }

    /// <summary>Writes the store to the file <paramref name="path"/> (see <see cref="Save(Stream)"/>).</summary>
    /// <param name="path">The file to create or overwrite.</param>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = File.Create(path);
        Save(file);
    }

    /// <summary>
    /// Restores what <see cref="Save(Stream)"/> wrote: existing parameters, state tensors and modules are
    /// overwritten in place (optimizers holding them keep working); parameters not created yet are created with
    /// the saved values (a model's initialiser is then not called); a module not registered yet receives its saved
    /// state when it is registered (by <c>Model.Module</c> or a learned baseline).
    /// </summary>
    /// <param name="stream">A readable stream; left open.</param>
    /// <exception cref="InvalidDataException">The stream is not a saved store, or is truncated.</exception>
    /// <exception cref="ArgumentException">A saved tensor's shape or type differs from the existing one's, or a
    /// module lacks a saved entry's key; the message names it.</exception>
    public void Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var byModule = new Dictionary<string, List<ParamStoreFile.Entry>>(StringComparer.Ordinal);
        foreach (var entry in ParamStoreFile.Read(stream))
        {
            switch (entry.Kind)
            {
                case ParamStoreFile.Kind.Parameter:
                    if (parameters.TryGetValue(entry.Name, out var p)) CopyInto(p, entry.Value, $"Parameter '{entry.Name}'");
                    else GetOrCreate(entry.Name, () => entry.Value);
                    break;
                case ParamStoreFile.Kind.State:
                    SetState(entry.Name, entry.Value);
                    break;
                case ParamStoreFile.Kind.Module:
                    if (!byModule.TryGetValue(entry.Name, out var list)) byModule[entry.Name] = list = [];
                    list.Add(entry);
                    break;
                default:
                    throw new InvalidDataException($"The saved ParamStore has an entry '{entry.Name}' of unknown kind {(int)entry.Kind}.");
            }
        }
        foreach (var (name, entries) in byModule)
        {
            if (modules.TryGetValue(name, out var module)) LoadModule(name, module, entries);
            else pendingModules[name] = entries;
        }
    }

    /// <summary>Restores the store from the file <paramref name="path"/> (see <see cref="Load(Stream)"/>).</summary>
    /// <param name="path">A file written by <see cref="Save(string)"/>.</param>
    public void Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = File.OpenRead(path);
        Load(file);
    }

    private static void LoadModule(string name, nn.Module module, List<ParamStoreFile.Entry> entries)
    {
        var current = module.state_dict();
        foreach (var entry in entries)
        {
            if (!current.TryGetValue(entry.Key, out var target))
                throw new ArgumentException(
                    $"Module '{name}': the saved store has an entry '{entry.Key}' that the module lacks (it has {string.Join(", ", current.Keys)}).");
            CopyInto(target, entry.Value, $"Module '{name}', entry '{entry.Key}'");
        }
    }

    private static void CopyInto(Tensor target, Tensor saved, string what)
    {
        if (!Distributions.Shapes.Equal(target.shape, saved.shape) || target.dtype != saved.dtype)
            throw new ArgumentException(
                $"{what}: the saved value is [{Distributions.Shapes.Format(saved.shape)}] of {saved.dtype}, but the store's is " +
                $"[{Distributions.Shapes.Format(target.shape)}] of {target.dtype}.");
        using (no_grad()) target.copy_(saved);
    }
}
