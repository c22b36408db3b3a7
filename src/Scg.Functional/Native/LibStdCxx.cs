// Shared with the MSBuild inline task (see buildTransitive/Scg.Functional.targets): .NET Standard 2.0 APIs only
// (apart from the one #if below), using directives inside the namespace block, and no backslashes (the targets
// file joins the shared files line by line).
#nullable enable
namespace Scg.Native
{
    using System;
    using System.Runtime.InteropServices;

    /// <summary>
    /// Asks the dynamic loader whether the libstdc++ this process would use provides <c>GLIBCXX_3.4.32</c>.
    /// </summary>
    /// <remarks>
    /// The probe resolves <see cref="MarkerSymbol"/> (<c>std::ios_base_library_init()</c>), which libstdc++
    /// exports from <c>GLIBCXX_3.4.32</c> (GCC 13) on and which is the only symbol TorchSharp 0.107 binds to that
    /// version. Loading by soname means the answer reflects <c>LD_LIBRARY_PATH</c>, the loader cache, and any
    /// libstdc++ already mapped into the process, just as it would be for TorchSharp itself.
    /// </remarks>
    public static class LibStdCxx
    {
        /// <summary>The soname of the GNU C++ runtime.</summary>
        public const string SoName = "libstdc++.so.6";

        /// <summary>Mangled name of <c>std::ios_base_library_init()</c>, present exactly from <c>GLIBCXX_3.4.32</c> on.</summary>
        public const string MarkerSymbol = "_ZSt21ios_base_library_initv";

        /// <summary>Probes the process's libstdc++ for <c>GLIBCXX_3.4.32</c>. Cheap; safe to call repeatedly.</summary>
        /// <returns>The probe's verdict; <see cref="LibStdCxxStatus.NotLinux"/> on every other OS.</returns>
        public static LibStdCxxStatus ProbeGlibcxx3432()
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
                return LibStdCxxStatus.NotLinux;
#if NET
            if (!NativeLibrary.TryLoad(SoName, out IntPtr handle))
                return LibStdCxxStatus.NotLoadable;
            try
            {
                return NativeLibrary.TryGetExport(handle, MarkerSymbol, out _) ? LibStdCxxStatus.Present : LibStdCxxStatus.Missing;
            }
            finally
            {
                NativeLibrary.Free(handle);
            }
#else
            // .NET Standard 2.0 (the MSBuild inline task) has no NativeLibrary: ask libdl directly.
            IntPtr handle;
            try
            {
                handle = dlopen(SoName, RtldLazy);
            }
            catch (DllNotFoundException)
            {
                return LibStdCxxStatus.NotLoadable;
            }
            catch (EntryPointNotFoundException)
            {
                return LibStdCxxStatus.NotLoadable;
            }
            if (handle == IntPtr.Zero)
                return LibStdCxxStatus.NotLoadable;
            try
            {
                return dlsym(handle, MarkerSymbol) != IntPtr.Zero ? LibStdCxxStatus.Present : LibStdCxxStatus.Missing;
            }
            finally
            {
                dlclose(handle);
            }
#endif
        }

#if !NET
        private const int RtldLazy = 1;

        [DllImport("libdl.so.2")]
        private static extern IntPtr dlopen(string file, int mode);

        [DllImport("libdl.so.2")]
        private static extern IntPtr dlsym(IntPtr handle, string symbol);

        [DllImport("libdl.so.2")]
        private static extern int dlclose(IntPtr handle);
#endif
    }
}
