#!/usr/bin/env dotnet
// Scg loaded as a user outside this repository would: from NuGet packages, here the local folder that .ci/pack
// fills (artifacts/packages). Run `.ci/pack` at the repository root first, then:   dotnet run examples/packages.cs
// The #:property lines are for this repository only (its Directory.Build.props turns on central package
// versions and lock files; the package folder is relative to this file); elsewhere the #:package line is enough.
#:package Scg.CSharpFacade@0.1.0
#:property RestoreAdditionalProjectSources=$(MSBuildProjectDirectory)/../artifacts/packages
#:property ManagePackageVersionsCentrally=false
#:property RestorePackagesWithLockFile=false

using System;
using Scg;
using Scg.Distributions;
using Scg.Estimators;
using Scg.Interpretation;
using Scg.Linq;
using static TorchSharp.torch;

// The first statement is a TorchSharp call: the package's build step has made TorchSharp's native library loadable.
var theta = tensor(0.5, requires_grad: true);
var model =
    from y in Model.Sample("y", Bernoulli.FromLogits(theta))            // discrete: score function
    from z in Model.Sample("z", new Normal(y * 3.0, tensor(1.0)))       // continuous: pathwise
    from c in Model.Cost("c", (z - 1.0).square())                       // credited to y and z
    select z;
var run = Interpreter.Sample(model, new RunOptions { Seed = 1, Particles = 64 });
Surrogate.Build(run.Trace).Surrogate.backward();                        // theta.grad: unbiased ∇θ E[c]
Console.WriteLine($"∇θ E[c] ≈ {theta.grad!.item<double>():F3} (64 particles; Scg.Functional {typeof(Model).Assembly.GetName().Version})");
