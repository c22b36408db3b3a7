namespace Scg;
/// <summary>Temporary.</summary>
public static class Probe { }
