using System.Globalization;

namespace Porthole.Console.Tests.Fixtures;

/// <summary>
/// TigerVNC's <c>Xtigervnc</c> on 127.0.0.1 with VNC Authentication only and a known password, its root window painted
/// red with <c>xsetroot</c> so a viewer's canvas shows non-blank pixels we can check.
/// </summary>
public sealed class RedScreenVncServer : IAsyncDisposable
{
    private readonly TempDirectory _directory = new("porthole-console-vnc");
    private ProcessRunner? _server;

    public int Port { get; private set; }

    public string Password { get; } = "pw" + Random.Shared.Next(100000, 999999).ToString(CultureInfo.InvariantCulture);

    public static async Task<RedScreenVncServer> StartAsync()
    {
        var server = new RedScreenVncServer();
        await server.StartCoreAsync();
        return server;
    }

    private async Task StartCoreAsync()
    {
        var passwordFile = _directory.Combine("passwd");
        var stored = await ProcessRunner.RunAsync("sh", ["-c", $"printf '%s\\n' \"$PW\" | tigervncpasswd -f > '{passwordFile}'"], environment: new Dictionary<string, string?> { ["PW"] = Password });
        Assert.True(stored.ExitCode == 0, "tigervncpasswd failed: " + stored);

        for (var attempt = 0; attempt < 3; attempt++)
        {
            Port = FreePort.Get();
            var display = ":" + FreeDisplay().ToString(CultureInfo.InvariantCulture);
            _server = ProcessRunner.Start("Xtigervnc",
                [display, "-rfbport", Port.ToString(CultureInfo.InvariantCulture), "-interface", "127.0.0.1", "-SecurityTypes", "VncAuth", "-rfbauth", passwordFile,
                 "-geometry", "800x600", "-depth", "24", "-nolisten", "tcp"]);
            if (await FreePort.WaitUntilListeningAsync(Port, TimeSpan.FromSeconds(20), () => _server.HasExited))
            {
                var painted = await ProcessRunner.RunAsync("xsetroot", ["-solid", "red"], environment: new Dictionary<string, string?> { ["DISPLAY"] = display });
                Assert.True(painted.ExitCode == 0, "xsetroot failed: " + painted);
                return;
            }

            await _server.DisposeAsync();
        }

        throw new InvalidOperationException("Xtigervnc did not start");
    }

    private static int FreeDisplay()
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var display = Random.Shared.Next(600, 900);
            if (!File.Exists($"/tmp/.X{display}-lock") && !File.Exists($"/tmp/.X11-unix/X{display}"))
            {
                return display;
            }
        }

        throw new InvalidOperationException("no free X display");
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _directory.Dispose();
    }
}
