using System.Globalization;

namespace Porthole.Console.Tests.Fixtures;

/// <summary>A raw TCP console on 127.0.0.1: socat gives each connection an interactive shell on a PTY.</summary>
public sealed class ShellTarget : IAsyncDisposable
{
    private readonly ProcessRunner _socat;

    private ShellTarget(int port, ProcessRunner socat) => (Port, _socat) = (port, socat);

    public int Port { get; }

    public static async Task<ShellTarget> StartAsync()
    {
        var port = FreePort.Get();
        var socat = ProcessRunner.Start("socat",
            [$"TCP-LISTEN:{port.ToString(CultureInfo.InvariantCulture)},bind=127.0.0.1,reuseaddr,fork", "EXEC:/bin/sh -i,pty,stderr,setsid,sigint,sane"],
            new Dictionary<string, string?> { ["PS1"] = "$ ", ["ENV"] = null });
        Assert.True(await FreePort.WaitUntilListeningAsync(port, TimeSpan.FromSeconds(10), () => socat.HasExited), "socat did not start");
        return new ShellTarget(port, socat);
    }

    public ValueTask DisposeAsync() => _socat.DisposeAsync();
}
