module Scg.Tests.NativeTests

// Tests for Scg.Native: the ELF version-requirement patcher, the libstdc++ probe, and the run-time path that
// makes TorchSharp's native shim loadable on systems whose libstdc++ lacks GLIBCXX_3.4.32 (see
// docs/native-loading.md). The end-to-end test re-runs this test assembly in a fresh process, from a staged
// copy of the output folder that holds the UNPATCHED shim, with SCG_NATIVE_E2E_CHILD=1: that process runs only
// the child test below.

open System
open System.Diagnostics
open System.IO
open System.Reflection
open System.Runtime.InteropServices
open System.Text
open Expecto
open Scg.Native

let private isLinux = RuntimeInformation.IsOSPlatform OSPlatform.Linux
let private childVariable = "SCG_NATIVE_E2E_CHILD"
let private isChild = Environment.GetEnvironmentVariable childVariable = "1"
let private childTestName = "scg-native-e2e-child"
let private okMarker = "SCG-NATIVE-E2E-OK"

// In the child, make the shim loadable before any other test module's initialisation can reach TorchSharp.
let private childStatus = if isChild then Some(TorchSharpNative.EnsureLoadable()) else None

// ---------------------------------------------------------------------------------------------------------
// Locating the pristine shim in the NuGet cache

let private pristineShimPath =
    lazy
        let torchSharp = typeof<TorchSharp.torch>.Assembly
        let version =
            let informational = torchSharp.GetCustomAttribute<AssemblyInformationalVersionAttribute>().InformationalVersion
            informational.Split('+').[0]
        let root =
            match Environment.GetEnvironmentVariable "NUGET_PACKAGES" with
            | null | "" -> Path.Combine(Environment.GetFolderPath Environment.SpecialFolder.UserProfile, ".nuget", "packages")
            | configured -> configured
        let path = Path.Combine(root, "torchsharp", version, "runtimes", "linux-x64", "native", "libLibTorchSharp.so")
        if not (File.Exists path) then failwithf "pristine TorchSharp shim not found at %s (is the package restored?)" path
        path

// ---------------------------------------------------------------------------------------------------------
// A small synthetic ELF64 shared object: header, one string table, one .gnu.version_r section with a single
// Verneed (libstdc++.so.6) whose Vernaux chain names the given versions, and the section header table.

let private writeU16 (buffer: byte[]) (offset: int) (value: int) =
    buffer.[offset] <- byte value
    buffer.[offset + 1] <- byte (value >>> 8)

let private writeU32 (buffer: byte[]) (offset: int) (value: uint32) =
    for i in 0 .. 3 do buffer.[offset + i] <- byte (value >>> (8 * i))

let private writeU64 (buffer: byte[]) (offset: int) (value: uint64) =
    for i in 0 .. 7 do buffer.[offset + i] <- byte (value >>> (8 * i))

type private Synthetic = { Bytes: byte[]; VerneedOffset: int; FlagsOffsets: int list }

let private syntheticElf (versions: string list) (withVerneed: bool) =
    let strings = StringBuilder("\000libstdc++.so.6\000")
    let nameOffsets =
        versions |> List.map (fun v ->
            let offset = strings.Length
            strings.Append(v).Append('\000') |> ignore
            offset)
    let strtab = Encoding.ASCII.GetBytes(strings.ToString())
    let strtabOffset = 64
    let verneedOffset = (strtabOffset + strtab.Length + 7) / 8 * 8
    let verneedSize = if withVerneed then 16 + 16 * versions.Length else 0
    let shoff = (verneedOffset + verneedSize + 7) / 8 * 8
    let sectionCount = if withVerneed then 3 else 2
    let bytes = Array.zeroCreate<byte> (shoff + 64 * sectionCount)
    // e_ident and header
    bytes.[0] <- 0x7fuy; bytes.[1] <- byte 'E'; bytes.[2] <- byte 'L'; bytes.[3] <- byte 'F'
    bytes.[4] <- 2uy; bytes.[5] <- 1uy; bytes.[6] <- 1uy
    writeU16 bytes 16 3          // ET_DYN
    writeU16 bytes 18 62         // EM_X86_64
    writeU32 bytes 20 1u
    writeU64 bytes 0x28 (uint64 shoff)
    writeU16 bytes 0x34 64
    writeU16 bytes 0x3a 64
    writeU16 bytes 0x3c sectionCount
    Array.blit strtab 0 bytes strtabOffset strtab.Length
    let flagsOffsets =
        if withVerneed then
            writeU16 bytes verneedOffset 1                      // vn_version
            writeU16 bytes (verneedOffset + 2) versions.Length  // vn_cnt
            writeU32 bytes (verneedOffset + 4) 1u               // vn_file -> "libstdc++.so.6"
            writeU32 bytes (verneedOffset + 8) 16u              // vn_aux
            writeU32 bytes (verneedOffset + 12) 0u              // vn_next: last
            nameOffsets |> List.mapi (fun i nameOffset ->
                let aux = verneedOffset + 16 + 16 * i
                writeU32 bytes aux (uint32 (0x1000 + i))        // vna_hash (not checked)
                writeU16 bytes (aux + 6) (2 + i)                // vna_other
                writeU32 bytes (aux + 8) (uint32 nameOffset)
                writeU32 bytes (aux + 12) (if i = versions.Length - 1 then 0u else 16u)
                aux + 4)
        else []
    // section 1: string table; section 2: version needs
    let header index kind offset size link info =
        let at = shoff + 64 * index
        writeU32 bytes (at + 4) kind
        writeU64 bytes (at + 24) (uint64 offset)
        writeU64 bytes (at + 32) (uint64 size)
        writeU32 bytes (at + 40) link
        writeU32 bytes (at + 44) info
    header 1 3u strtabOffset strtab.Length 0u 0u
    if withVerneed then header 2 0x6ffffffeu verneedOffset verneedSize 1u 1u
    { Bytes = bytes; VerneedOffset = verneedOffset; FlagsOffsets = flagsOffsets }

let private elfError (bytes: byte[]) (path: string) =
    try
        ElfVersionPatcher.Patch(bytes, sourcePath = path) |> ignore
        failwith "expected an ElfFormatException"
    with :? ElfFormatException as e -> e

// ---------------------------------------------------------------------------------------------------------
// Helpers for the fresh-process test

let private dotnetMuxer () =
    let runtimeDirectory = RuntimeEnvironment.GetRuntimeDirectory()
    let candidate = Path.GetFullPath(Path.Combine(runtimeDirectory, "..", "..", "..", "dotnet"))
    if File.Exists candidate then candidate else "dotnet"

/// Copies the test output folder into `target`, with the pristine shim in place of the (build-patched) one,
/// symbolic links for the other native libraries, and without other platforms' native files or TorchSharp's
/// cpu/ consolidation folder.
let private stageOutput (source: string) (target: string) (pristine: string) =
    let source = Path.TrimEndingDirectorySeparator(Path.GetFullPath source)
    for file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories) do
        let relative = Path.GetRelativePath(source, file)
        let parts = relative.Split(Path.DirectorySeparatorChar)
        let skip =
            parts.[0] = "cpu"
            || (parts.[0] = "runtimes" && parts.Length > 1 && parts.[1] <> "linux-x64")
        if not skip then
            let destination = Path.Combine(target, relative)
            Directory.CreateDirectory(Path.GetDirectoryName destination) |> ignore
            let name = Path.GetFileName file
            if name = "libLibTorchSharp.so" then File.Copy(pristine, destination)
            elif name.Contains ".so" then File.CreateSymbolicLink(destination, file) |> ignore
            else File.Copy(file, destination)

/// A scratch folder next to the test output folder (so it is on a file system that allows mapping libraries
/// executable, unlike a noexec /tmp), or in the temporary folder when the output's parent is not writable.
let private stagingRoot () =
    let name = "scg-native-e2e-" + Guid.NewGuid().ToString("N")
    let output = Path.TrimEndingDirectorySeparator(Path.GetFullPath AppContext.BaseDirectory)
    let besideOutput = Path.Combine(Path.GetDirectoryName output, name)
    try
        Directory.CreateDirectory besideOutput |> ignore
        besideOutput
    with :? IOException | :? UnauthorizedAccessException ->
        let temporary = Path.Combine(Path.GetTempPath(), name)
        Directory.CreateDirectory temporary |> ignore
        temporary

let private runChild (directory: string) (cache: string) =
    let info = ProcessStartInfo(dotnetMuxer ())
    info.ArgumentList.Add(Path.Combine(directory, Path.GetFileName(Assembly.GetExecutingAssembly().Location)))
    for arg in [ "--filter-test-case"; childTestName; "--no-spinner"; "--colours"; "0"; "--sequenced" ] do
        info.ArgumentList.Add arg
    info.WorkingDirectory <- directory
    info.RedirectStandardOutput <- true
    info.RedirectStandardError <- true
    info.UseShellExecute <- false
    info.Environment.[childVariable] <- "1"
    info.Environment.["XDG_CACHE_HOME"] <- cache
    use child = Process.Start info
    let stdout = child.StandardOutput.ReadToEndAsync()
    let stderr = child.StandardError.ReadToEndAsync()
    if not (child.WaitForExit 120_000) then
        child.Kill true
        failwith "the child process did not finish within 120 s"
    child.WaitForExit()
    child.ExitCode, stdout.Result + stderr.Result

let private containsBytes (haystack: byte[]) (needle: byte[]) =
    let h = ReadOnlySpan<byte>(haystack)
    h.IndexOf(ReadOnlySpan<byte>(needle)) >= 0

let private loadedShims () =
    File.ReadAllLines "/proc/self/maps"
    |> Array.choose (fun line ->
        let at = line.IndexOf '/'
        if at >= 0 && line.EndsWith "libLibTorchSharp.so" then Some(line.Substring at) else None)
    |> Array.distinct

// ---------------------------------------------------------------------------------------------------------

[<Tests>]
let elfPatcher =
    testList "Native.ElfVersionPatcher" [
        testCase "pristine TorchSharp shim: patch sets VER_FLG_WEAK and changes nothing else" <| fun () ->
            let path = pristineShimPath.Force()
            let original = File.ReadAllBytes path
            let snapshot = Array.copy original
            Expect.equal (ElfVersionPatcher.Query(original, sourcePath = path)) ElfVersionState.Required "pristine shim requires GLIBCXX_3.4.32"
            let outcome = ElfVersionPatcher.Patch(original, sourcePath = path)
            Expect.equal outcome.Result ElfPatchResult.Patched "first patch"
            Expect.sequenceEqual original snapshot "the input array is not modified"
            Expect.equal outcome.Image.Length original.Length "same length"
            let differing = [ for i in 0 .. original.Length - 1 do if original.[i] <> outcome.Image.[i] then yield int64 i ]
            Expect.isNonEmpty differing "something changed"
            for i in differing do
                Expect.isTrue (i = outcome.FlagsOffset || i = outcome.FlagsOffset + 1L) (sprintf "byte 0x%x is outside vna_flags at 0x%x" i outcome.FlagsOffset)
            let flags = uint16 outcome.Image.[int outcome.FlagsOffset] ||| (uint16 outcome.Image.[int outcome.FlagsOffset + 1] <<< 8)
            Expect.equal (flags &&& ElfVersionPatcher.VersionFlagWeak) ElfVersionPatcher.VersionFlagWeak "VER_FLG_WEAK set"
            Expect.equal (ElfVersionPatcher.Query outcome.Image) ElfVersionState.Weak "query sees the weak flag"
            let again = ElfVersionPatcher.Patch(outcome.Image)
            Expect.equal again.Result ElfPatchResult.AlreadyWeak "second patch"
            Expect.isTrue (obj.ReferenceEquals(again.Image, outcome.Image)) "nothing copied when already weak"
            Expect.equal again.FlagsOffset outcome.FlagsOffset "same entry"

        testCase "other version names in the pristine shim are found and left alone" <| fun () ->
            let original = File.ReadAllBytes(pristineShimPath.Force())
            Expect.equal (ElfVersionPatcher.Query(original, "GLIBCXX_3.4")) ElfVersionState.Required "an old version is required too"
            Expect.equal (ElfVersionPatcher.Query(original, "GLIBCXX_9.9.99")) ElfVersionState.Absent "a made-up version is absent"

        testCase "synthetic ELF without the entry: EntryNotFound, bytes untouched" <| fun () ->
            let elf = syntheticElf [ "GLIBCXX_3.4"; "GLIBCXX_3.4.30" ] true
            let outcome = ElfVersionPatcher.Patch elf.Bytes
            Expect.equal outcome.Result ElfPatchResult.EntryNotFound "no GLIBCXX_3.4.32"
            Expect.isTrue (obj.ReferenceEquals(outcome.Image, elf.Bytes)) "input returned as is"
            Expect.equal outcome.FlagsOffset -1L "no offset"
            Expect.equal (ElfVersionPatcher.Query elf.Bytes) ElfVersionState.Absent "query agrees"
            Expect.equal (ElfVersionPatcher.Query(elf.Bytes, "GLIBCXX_3.4.30")) ElfVersionState.Required "the other entry is seen"

        testCase "synthetic ELF without .gnu.version_r: EntryNotFound" <| fun () ->
            let elf = syntheticElf [] false
            Expect.equal (ElfVersionPatcher.Patch elf.Bytes).Result ElfPatchResult.EntryNotFound "no version section at all"

        testCase "synthetic ELF with the entry last in the chain: exactly its flags change" <| fun () ->
            let elf = syntheticElf [ "GLIBCXX_3.4"; "GLIBCXX_3.4.30"; "GLIBCXX_3.4.32" ] true
            let outcome = ElfVersionPatcher.Patch elf.Bytes
            Expect.equal outcome.Result ElfPatchResult.Patched "patched"
            Expect.equal outcome.FlagsOffset (int64 (List.last elf.FlagsOffsets)) "flags of the third Vernaux"
            Expect.equal outcome.Image.[int outcome.FlagsOffset] 2uy "VER_FLG_WEAK"
            let differing = [ for i in 0 .. elf.Bytes.Length - 1 do if elf.Bytes.[i] <> outcome.Image.[i] then yield i ]
            Expect.equal differing [ List.last elf.FlagsOffsets ] "one byte changed"

        testCase "not ELF: helpful message with the path" <| fun () ->
            let e = elfError (Encoding.ASCII.GetBytes "#!/bin/sh\necho this is a script, not a library\n") "/tmp/not-a-library.so"
            Expect.stringContains e.Message "not an ELF file" "says what is wrong"
            Expect.stringContains e.Message "/tmp/not-a-library.so" "says which file"
            Expect.equal e.SourcePath "/tmp/not-a-library.so" "path recorded"

        testCase "empty and header-truncated input" <| fun () ->
            Expect.stringContains (elfError [||] null).Message "not an ELF file" "empty"
            let elf = syntheticElf [ "GLIBCXX_3.4.32" ] true
            Expect.stringContains (elfError elf.Bytes.[.. 39] "x.so").Message "truncated" "cut inside the file header"

        testCase "truncated real shim: section table out of range" <| fun () ->
            let original = File.ReadAllBytes(pristineShimPath.Force())
            let e = elfError original.[.. 99_999] "cut.so"
            Expect.stringContains e.Message "runs past the end" "says the table is out of range"
            Expect.isSome (Option.ofNullable e.Offset) "says where"

        testCase "32-bit and big-endian input are rejected" <| fun () ->
            let elf32 = Array.copy (syntheticElf [ "GLIBCXX_3.4.32" ] true).Bytes
            elf32.[4] <- 1uy
            Expect.stringContains (elfError elf32 "lib32.so").Message "32-bit" "ELFCLASS32"
            let bigEndian = Array.copy (syntheticElf [ "GLIBCXX_3.4.32" ] true).Bytes
            bigEndian.[5] <- 2uy
            Expect.stringContains (elfError bigEndian "be.so").Message "big-endian" "ELFDATA2MSB"

        testCase "corrupt Verneed links are rejected, not followed" <| fun () ->
            let elf = syntheticElf [ "GLIBCXX_3.4"; "GLIBCXX_3.4.30" ] true
            let badNext = Array.copy elf.Bytes
            writeU32 badNext (elf.VerneedOffset + 12) 0x10000u      // vn_next far past the section
            Expect.stringContains (elfError badNext "next.so").Message "runs past the end of the .gnu.version_r section" "vn_next"
            let badAux = Array.copy elf.Bytes
            writeU32 badAux (elf.VerneedOffset + 16 + 12) 0x10000u  // vna_next of the first Vernaux
            Expect.stringContains (elfError badAux "aux.so").Message "Vernaux 1" "vna_next"
            let overlapping = Array.copy elf.Bytes
            writeU32 overlapping (elf.VerneedOffset + 16 + 12) 4u    // would step into the middle of itself
            Expect.stringContains (elfError overlapping "loop.so").Message "overlap" "vna_next smaller than an entry"
            let badName = Array.copy elf.Bytes
            writeU32 badName (elf.VerneedOffset + 16 + 8) 0xffffu   // vna_name outside the string table
            Expect.stringContains (elfError badName "name.so").Message "string offset" "vna_name"
    ]

[<Tests>]
let libStdCxxProbe =
    testList "Native.LibStdCxx" [
        testCase "probe agrees with a byte search of the libstdc++ this process maps" <| fun () ->
            if not isLinux then skiptest "Linux only"
            let status = LibStdCxx.ProbeGlibcxx3432()
            Expect.notEqual status LibStdCxxStatus.NotLinux "on Linux"
            Expect.notEqual status LibStdCxxStatus.NotLoadable "libstdc++ loads (the .NET runtime itself needs it)"
            let mapped =
                File.ReadAllLines "/proc/self/maps"
                |> Array.tryPick (fun line ->
                    let at = line.IndexOf '/'
                    if at >= 0 && line.Contains "libstdc++.so" then Some(line.Substring at) else None)
            let path = Expect.wantSome mapped "libstdc++ is mapped after the probe"
            let hasVersion = containsBytes (File.ReadAllBytes path) (Encoding.ASCII.GetBytes "GLIBCXX_3.4.32")
            Expect.equal (status = LibStdCxxStatus.Present) hasVersion (sprintf "%s: probe said %A" path status)
    ]

[<Tests>]
let runtimePath =
    testList "Native.TorchSharpNative" [
        testCase "fresh process with the unpatched shim: EnsureLoadable, then autograd through a reparameterised Normal" <| fun () ->
            if not isLinux then skiptest "Linux only"
            let pristine = pristineShimPath.Force()
            let root = stagingRoot ()
            try
                let staged = Path.Combine(root, "app")
                let cache = Path.Combine(root, "cache")
                stageOutput AppContext.BaseDirectory staged pristine
                let stagedShim = Path.Combine(staged, "runtimes", "linux-x64", "native", "libLibTorchSharp.so")
                Expect.equal (ElfVersionPatcher.Query(File.ReadAllBytes stagedShim)) ElfVersionState.Required "the staged shim is unpatched"
                let code, output = runChild staged cache
                Expect.equal code 0 (sprintf "child exit code; output:\n%s" output)
                Expect.stringContains output okMarker "child reached the end of its test"
                let expected =
                    if LibStdCxx.ProbeGlibcxx3432() = LibStdCxxStatus.Present then "status=SystemLibStdCxxSufficient"
                    else "status=PatchedCopyLoaded"
                Expect.stringContains output expected "the run-time path did what this system needs"
            finally
                try Directory.Delete(root, true) with _ -> ()

        // Runs only in the child process started above (SCG_NATIVE_E2E_CHILD=1).
        if isChild then
            testCase childTestName <| fun () ->
                let status = TorchSharpNative.EnsureLoadable()
                Expect.equal (Some status) childStatus "idempotent: the same result as the first call"
                let scope = TorchSharp.torch.NewDisposeScope()
                try
                    TorchSharp.torch.manual_seed 20240229L |> ignore
                    let mu = TorchSharp.torch.tensor([| 0.3; -1.2; 2.0 |], requires_grad = true)
                    let sigma = TorchSharp.torch.tensor([| 0.5; 1.5; 0.1 |])
                    let eps = TorchSharp.torch.randn([| 3L |], dtype = TorchSharp.torch.ScalarType.Float64)
                    let z = mu + sigma * eps
                    let loss = (z * z).sum()
                    loss.backward()
                    let grad = mu.grad.data<float>().ToArray()
                    let expected = (z.detach() * 2.0).data<float>().ToArray()
                    for i in 0 .. 2 do
                        Expect.floatClose Accuracy.high grad.[i] expected.[i] (sprintf "d(z^2)/dmu = 2z at %d" i)
                    if status = TorchSharpNativeStatus.PatchedCopyLoaded then
                        Expect.equal (loadedShims ()) [| TorchSharpNative.PatchedShimPath |] "TorchSharp runs on the patched copy only"
                    let shims = loadedShims () |> String.concat ","
                    printfn "%s status=%A patched=%s loaded=%s grad=%A" okMarker status (TorchSharpNative.PatchedShimPath |> Option.ofObj |> Option.defaultValue "-") shims grad
                finally
                    scope.Dispose()
    ]
