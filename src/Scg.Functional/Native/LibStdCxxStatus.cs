// Shared with the MSBuild inline task (see buildTransitive/Scg.Functional.targets): .NET Standard 2.0 APIs only,
// using directives inside the namespace block, and no backslashes (the targets file joins the shared files line by line).
#nullable enable
namespace Scg.Native
{
    /// <summary>Whether the libstdc++ that this process loads provides the <c>GLIBCXX_3.4.32</c> symbol version.</summary>
    public enum LibStdCxxStatus
    {
        /// <summary>Not running on Linux; the question does not arise.</summary>
        NotLinux,

        /// <summary><c>libstdc++.so.6</c> could not be loaded at all (patching would not help either).</summary>
        NotLoadable,

        /// <summary>libstdc++ loads but predates GCC 13, so it lacks <c>GLIBCXX_3.4.32</c> (e.g. Debian 12, Ubuntu 22.04).</summary>
        Missing,

        /// <summary>libstdc++ provides <c>GLIBCXX_3.4.32</c>; TorchSharp's native shim loads unmodified.</summary>
        Present,
    }
}
