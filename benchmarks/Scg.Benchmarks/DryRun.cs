using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using BenchmarkDotNet.Attributes;

namespace Scg.Benchmarks;

/// <summary>
/// A short smoke run for CI: for every benchmark class, the smallest value of each [Params] property, its
/// [GlobalSetup] (which includes the checks that Scg and the hand-written code agree), each [Benchmark] method
/// twice with a finite result, and its [GlobalCleanup]. No timing statistics are gathered.
/// </summary>
internal static class DryRun
{
    public static int Run(Assembly assembly, TextWriter output)
    {
        var total = Stopwatch.StartNew();
        var failures = 0;
        var types = assembly.GetTypes()
            .Where(t => t.IsClass && !t.IsAbstract && t.GetMethods().Any(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null))
            .OrderBy(t => t.Name, StringComparer.Ordinal);
        foreach (var type in types)
        {
            var instance = Activator.CreateInstance(type)!;
            foreach (var prop in type.GetProperties())
                if (prop.GetCustomAttribute<ParamsAttribute>() is { } values)
                    prop.SetValue(instance, values.Values.Min());
            var setting = string.Join(", ", type.GetProperties()
                .Where(p => p.GetCustomAttribute<ParamsAttribute>() is not null)
                .Select(p => $"{p.Name}={p.GetValue(instance)}"));
            try
            {
                Invoke<GlobalSetupAttribute>(type, instance);
                foreach (var method in type.GetMethods().Where(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null))
                {
                    var watch = Stopwatch.StartNew();
                    object? result = null;
                    for (var i = 0; i < 2; i++) result = method.Invoke(instance, null);
                    var value = Convert.ToDouble(result, System.Globalization.CultureInfo.InvariantCulture);
                    if (!double.IsFinite(value))
                        throw new InvalidOperationException($"{type.Name}.{method.Name} returned {value}.");
                    output.WriteLine($"dry: {type.Name}.{method.Name} ({setting}): {value:G6} [{watch.Elapsed.TotalMilliseconds / 2:F1} ms per call]");
                }
                Invoke<GlobalCleanupAttribute>(type, instance);
            }
            catch (Exception e)
            {
                failures++;
                var inner = e is TargetInvocationException { InnerException: { } ie } ? ie : e;
                output.WriteLine($"dry: {type.Name} ({setting}) FAILED: {inner.GetType().Name}: {inner.Message}");
            }
        }
        output.WriteLine($"dry: {(failures == 0 ? "all benchmarks ran" : $"{failures} benchmark class(es) failed")} in {total.Elapsed.TotalSeconds:F1} s");
        return failures == 0 ? 0 : 1;
    }

    private static void Invoke<TAttribute>(Type type, object instance) where TAttribute : Attribute
    {
        foreach (var m in type.GetMethods().Where(m => m.GetCustomAttribute<TAttribute>() is not null))
            m.Invoke(instance, null);
    }
}
