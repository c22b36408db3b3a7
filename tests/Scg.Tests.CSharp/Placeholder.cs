namespace Scg.Tests.CSharp;
internal static class Placeholder { }
