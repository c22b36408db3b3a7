using System;
using System.IO;
using System.Text;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Scg.Interpretation;

/// <summary>
/// A training checkpoint: the step reached, the parameter store (parameters, baseline states, modules; see
/// <see cref="ParamStore.Save(Stream)"/>), the optimizer's state (Adam's moments, in TorchSharp's own
/// state-dictionary format) and the random generator's state, in one file. A run resumed from it continues as the
/// unbroken run would have (on the CPU, with the same step models).
/// </summary>
/// <remarks>
/// Reading is separate from restoring because a training loop restores in stages: the store first (it creates
/// the parameters), then the optimizer built over them, then the generator.
/// </remarks>
public sealed class Checkpoint
{
    private const string Magic = "SCG-CHECKPOINT";
    private const int Version = 1;

    private readonly byte[] store;
    private readonly byte[]? optimizer;
    private readonly byte[]? generator;

    private Checkpoint(string path, int step, byte[] store, byte[]? optimizer, byte[]? generator)
    {
        Path = path;
        Step = step;
        this.store = store;
        this.optimizer = optimizer;
        this.generator = generator;
    }

    /// <summary>The file this checkpoint was read from.</summary>
    public string Path { get; }

    /// <summary>The number of training steps completed when it was written: a resumed run starts at this step.</summary>
    public int Step { get; }

    /// <summary>Whether the optimizer's state was saved (false for an optimizer TorchSharp cannot serialise).</summary>
    public bool HasOptimizerState => optimizer is not null;

    /// <summary>Whether a generator's state was saved.</summary>
    public bool HasGeneratorState => generator is not null;

    /// <summary>
    /// Writes a checkpoint to <paramref name="path"/> atomically (a temporary sibling renamed over it, so a run
    /// killed while writing leaves the previous checkpoint intact).
    /// </summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="step">The number of steps completed.</param>
    /// <param name="store">The parameter store to save.</param>
    /// <param name="optimizer">The optimizer whose state to save, or null. TorchSharp's optimizers
    /// (<c>Adam</c>, <c>SGD</c>, …) derive from <c>OptimizerHelper</c> and are saved; any other is skipped
    /// (<see cref="HasOptimizerState"/> is then false).</param>
    /// <param name="generator">The generator whose position to save, or null.</param>
    public static void Save(string path, int step, ParamStore store, optim.Optimizer? optimizer = null, Generator? generator = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        var full = System.IO.Path.GetFullPath(path);
        var directory = System.IO.Path.GetDirectoryName(full) ?? ".";
        Directory.CreateDirectory(directory);
        var temporary = System.IO.Path.Combine(directory, "." + System.IO.Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
            using (var file = File.Create(temporary))
            using (var writer = new BinaryWriter(file, Encoding.UTF8))
            {
                writer.Write(Magic);
                writer.Write(Version);
                writer.Write(step);
                WriteBlock(writer, Bytes(store.Save));
                WriteBlock(writer, optimizer is OptimizerHelper helper ? Bytes(s => { using var w = new BinaryWriter(s, Encoding.UTF8, leaveOpen: true); helper.save_state_dict(w); }) : null);
                WriteBlock(writer, generator is null ? null : GeneratorBytes(generator));
            }
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>Reads a checkpoint written by <see cref="Save"/>; nothing is restored until the Restore methods are called.</summary>
    /// <param name="path">The checkpoint file.</param>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a checkpoint, or is truncated; the message names it.</exception>
    public static Checkpoint Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = File.OpenRead(path);
        using var reader = new BinaryReader(file, Encoding.UTF8);
        try
        {
            if (reader.ReadString() != Magic)
                throw new InvalidDataException($"'{path}' is not an Scg checkpoint (written by Checkpoint.Save or Training.Fit).");
            var version = reader.ReadInt32();
            if (version != Version)
                throw new InvalidDataException($"'{path}' is an Scg checkpoint of version {version}; this version of Scg reads version {Version}.");
            var step = reader.ReadInt32();
            var store = ReadBlock(reader) ?? throw new InvalidDataException($"The checkpoint '{path}' has no parameter store.");
            return new Checkpoint(path, step, store, ReadBlock(reader), ReadBlock(reader));
        }
        catch (Exception e) when (e is EndOfStreamException or FormatException)
        {
            throw new InvalidDataException($"The checkpoint '{path}' is truncated or corrupt: {e.Message}", e);
        }
    }

    /// <summary>Restores the parameter store (see <see cref="ParamStore.Load(Stream)"/>): do this before building
    /// the optimizer, so that the parameters exist.</summary>
    /// <param name="target">The store to load into.</param>
    public void RestoreStore(ParamStore target)
    {
        ArgumentNullException.ThrowIfNull(target);
        using var stream = new MemoryStream(store, writable: false);
        target.Load(stream);
    }

    /// <summary>Restores the optimizer's state, if it was saved. The optimizer must be built over the same
    /// parameters in the same order (<see cref="ParamStore.Parameters"/> of the restored store).</summary>
    /// <param name="target">The optimizer, of the same kind as the saved one.</param>
    /// <exception cref="ArgumentException">The optimizer cannot load a state (it does not derive from TorchSharp's
    /// <c>OptimizerHelper</c>) though one was saved.</exception>
    public void RestoreOptimizer(optim.Optimizer target)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (optimizer is null) return;
        if (target is not OptimizerHelper helper)
            throw new ArgumentException($"The checkpoint '{Path}' holds an optimizer state, but {target.GetType().Name} cannot load one; use a TorchSharp optimizer.", nameof(target));
        using var stream = new MemoryStream(optimizer, writable: false);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        helper.load_state_dict(reader);
    }

    /// <summary>Restores the generator's position, if it was saved.</summary>
    /// <param name="target">The generator to set.</param>
    public void RestoreGenerator(Generator target)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (generator is null) return;
        using var state = tensor(generator, dtype: ScalarType.Byte);
        target.set_state(state);
    }

    private static byte[] Bytes(Action<Stream> write)
    {
        using var stream = new MemoryStream();
        write(stream);
        return stream.ToArray();
    }

    private static byte[] GeneratorBytes(Generator generator)
    {
        using var state = generator.get_state();
        using var cpu = state.cpu().contiguous();
        return cpu.data<byte>().ToArray();
    }

    private static void WriteBlock(BinaryWriter writer, byte[]? block)
    {
        writer.Write(block is not null);
        if (block is null) return;
        writer.Write(block.Length);
        writer.Write(block);
    }

    private static byte[]? ReadBlock(BinaryReader reader)
    {
        if (!reader.ReadBoolean()) return null;
        var length = reader.ReadInt32();
        if (length < 0) throw new FormatException($"a block of negative length {length}");
        var block = reader.ReadBytes(length);
        if (block.Length != length) throw new EndOfStreamException($"a block of {length} bytes ends after {block.Length}");
        return block;
    }
}
