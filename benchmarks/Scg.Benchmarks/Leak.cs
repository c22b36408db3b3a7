namespace Scg.Benchmarks;
using System;
using TorchSharp;
using static TorchSharp.torch;
internal static class Leak
{
    public static int Run()
    {
        torch.set_num_threads(1);
        var x = VaeNets.Data(128, seed: 7);
        var g = new Generator(11, CPU);
        foreach (var (name, step) in new (string, IVaeStep)[] {
            ("hand vae", new HandVae(new VaeNets(3), x, g)), ("scg guided", new ScgVaeGuided(new VaeNets(3), x, g, false)),
            ("scg vae", new ScgVae(new VaeNets(3), x, g, false)),
            ("hand iwae", new HandIwae(new IwaeNets(3), x, 8, g)), ("scg iwae", new ScgIwae(new IwaeNets(3), x, 8, g, false)) })
        {
            for (var i = 0; i < 3; i++) step.Step();
            GC.Collect(); GC.WaitForPendingFinalizers();
            var s = DisposeScopeManager.Statistics;
            s.Reset();
            for (var i = 0; i < 20; i++) step.Step();
            Console.WriteLine($"{name}: outside created {s.CreatedOutsideScopeCount} disposedOutside {s.DisposedOutsideScopeCount} inScope created {s.CreatedInScopeCount} disposedInScope {s.DisposedInScopeCount} detached {s.DetachedFromScopeCount} live {s.ThreadTotalLiveCount}");
        }
        return 0;
    }
}
