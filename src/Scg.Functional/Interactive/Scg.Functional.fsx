// Packed as content/Scg.Functional.fsx: F# Interactive (dotnet fsi, and the F# kernel of .NET Interactive) loads
// it right after `#r "nuget: Scg.Functional"` (or a package that depends on it). It makes TorchSharp's native
// library loadable (docs/native-loading.md), so that a script may call TorchSharp before it uses any Scg type.
// Errors are kept in Scg.Native.TorchSharpNative.InitializerError by the module initializer, never thrown here.
System.Runtime.CompilerServices.RuntimeHelpers.RunModuleConstructor(typeof<Scg.Native.TorchSharpNativeStatus>.Module.ModuleHandle)
