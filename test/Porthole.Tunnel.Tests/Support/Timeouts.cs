namespace Porthole.Tunnel.Tests.Support;

/// <summary>Upper bounds so a hang fails the test instead of blocking CI.</summary>
internal static class Timeouts
{
    public static readonly TimeSpan Test = TimeSpan.FromSeconds(20);

    public static readonly TimeSpan Short = TimeSpan.FromSeconds(5);
}
