namespace Scg.Benchmarks;
using System;
using System.Linq;
using Scg.Distributions;
using Scg.Estimators;
using Scg.Interpretation;
using Scg.Objectives;
using TorchSharp;
using static TorchSharp.torch;
internal static class Micro
{
    static void Time(string name, int n, Action a)
    {
        for (var i = 0; i < 50; i++) { using var s = NewDisposeScope(); a(); }
        var t = new double[7];
        for (var rep = 0; rep < 7; rep++)
        {
            var start = CpuClock.Microseconds();
            for (var i = 0; i < n; i++) { using var s = NewDisposeScope(); a(); }
            t[rep] = (CpuClock.Microseconds() - start) / n;
        }
        Array.Sort(t);
        Console.WriteLine($"{name}: {t[3]:F1} µs (min {t[0]:F1})");
    }

    public static int Run()
    {
        torch.set_num_threads(1);
        var x = VaeNets.Data(128, seed: 7);
        var g = new Generator(11, CPU);
        var nets = new VaeNets(3);
        var (logits, loc, scale) = (zeros(128, VaeNets.Classes), zeros(128, VaeNets.Latent), ones(128, VaeNets.Latent));
        var options = new RunOptions { Generator = g, Params = new ParamStore() };
        var trace = Interpreter.Sample(VaeGuidedModel.Build(nets, x, logits, loc, scale), options).Trace;
        Time("Surrogate.Build guided ELBO", 500, () => Surrogate.Build(trace));
        var iw = new ScgIwae(new IwaeNets(3), x, 8, g, false);
        var itrace = iw.Run();
        Time("Iwae.Build", 500, () => Iwae.Build(itrace));
        var a = randn(128, 20, requires_grad: true);
        var b = randn(128, 20).exp().requires_grad_(true);
        var v = randn(128, 20);
        Time("add [128,20] grad", 2000, () => { var _ = a + b; });
        Time("add [128,20] nograd", 2000, () => { var _ = v + v; });
        Time("to_type int64 same", 2000, () => { var _ = v.to_type(ScalarType.Float32); });
        Time("shape query", 20000, () => { var _ = v.shape; });
        Time("tensor(long[3])", 2000, () => { var _ = tensor(new long[] { 1, 2, 3 }); });
        Time("Normal.LogProb", 2000, () => { var _ = new Normal(a, b).LogProb(v); });
        Time("Normal ctor", 2000, () => { var _ = new Normal(a, b); });
        var lg = randn(128, 10, requires_grad: true);
        var y = randint(0, 10, 128);
        Time("Categorical.LogProb", 2000, () => { var _ = Categorical.FromLogits(lg).LogProb(y); });
        Time("Categorical.Sample", 2000, () => { var _ = Categorical.FromLogits(lg).Sample(g); });
        Time("hand y sample+logq", 2000, () => { var lq = lg.log_softmax(-1); Tensor yy; using (no_grad()) { yy = multinomial(lq.detach().exp(), 1, true, g); } var _ = lq.gather(-1, yy).squeeze(-1); });
        Time("scg y sample+logq", 2000, () => { var d = Categorical.FromLogits(lg); var yy = d.Sample(g); var _ = d.LogProb(yy); });
        Time("multinomial only", 2000, () => { using (no_grad()) { var _ = multinomial(lg.detach().exp(), 1, true, g); } });
        Time("softmax+multinomial", 2000, () => { using (no_grad()) { var _ = multinomial(lg.softmax(-1), 1, true, g); } });
        Time("hand z + lz", 2000, () => { var eps = randn(new long[] { 128, 20 }, generator: g); var z = a + b * eps; var _ = (z.square() - eps.square()).mul(0.5).sub(b.log()).sum(-1); });
        Time("scg z + lq + lp", 2000, () => { var q = new Normal(a, b).ToEvent(1); var z = q.RSample(g); var p = new Normal(loc, scale).ToEvent(1); var _ = q.LogProb(z); var __ = p.LogProb(z); });
        Time("softmax nograd", 2000, () => { using (no_grad()) { var _ = lg.softmax(-1); } });
        Time("log_softmax nograd", 2000, () => { using (no_grad()) { var _ = lg.log_softmax(-1); } });
        Time("log_softmax grad", 2000, () => { var _ = lg.log_softmax(-1); });
        Time("exp nograd", 2000, () => { using (no_grad()) { var _ = lg.exp(); } });
        Time("log_softmax.exp nograd", 2000, () => { using (no_grad()) { var _ = lg.log_softmax(-1).exp_(); } });
        Time("exponential_ + div + argmax", 2000, () => { using (no_grad()) { var q = empty_like(lg).exponential_(1, g); var _ = lg.exp().div_(q).argmax(-1); } });
        Time("run guided", 300, () => Interpreter.Sample(VaeGuidedModel.Build(nets, x, logits, loc, scale), options));
        return 0;
    }
}
