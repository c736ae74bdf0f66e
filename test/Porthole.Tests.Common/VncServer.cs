using Xunit;

using System.Globalization;

namespace Porthole.Tests.Common;

/// <summary>A real VNC server on 127.0.0.1 with a password, started from the Debian packages.</summary>
public sealed class VncServer : IAsyncDisposable
{
    private readonly TempDirectory _directory = new("porthole-vnc");
    private readonly List<ProcessRunner> _processes = [];

    public int Port { get; private set; }

    /// <summary>The X display the server runs (or serves), e.g. <c>:42</c>.</summary>
    public string Display { get; private set; } = "";

    public string Password { get; } = "vnc" + Random.Shared.Next(10000, 99999).ToString(CultureInfo.InvariantCulture);

    public string Kind { get; private init; } = "";

    public enum Flavour
    {
        TigerVncAuthOnly,
        TigerVncDefaultTypes,
        TightVnc,
        X11Vnc,
    }

    public static async Task<VncServer> StartAsync(Flavour flavour)
    {
        var server = new VncServer { Kind = flavour.ToString() };
        await server.StartCoreAsync(flavour);
        return server;
    }

    private async Task StartCoreAsync(Flavour flavour)
    {
        var passwordFile = _directory.Combine("passwd");
        var stored = await ProcessRunner.RunAsync("sh", ["-c", $"printf '%s\\n' \"$PW\" | tigervncpasswd -f > '{passwordFile}'"], environment: new Dictionary<string, string?> { ["PW"] = Password });
        Assert.True(stored.ExitCode == 0, "tigervncpasswd failed: " + stored);

        for (var attempt = 0; attempt < 3; attempt++)
        {
            Port = FreePort.Get();
            var display = ":" + FreeDisplay().ToString(CultureInfo.InvariantCulture);
            Display = display;
            var port = Port.ToString(CultureInfo.InvariantCulture);
            switch (flavour)
            {
                case Flavour.TigerVncAuthOnly:
                    Start("Xtigervnc", [display, "-rfbport", port, "-interface", "127.0.0.1", "-SecurityTypes", "VncAuth", "-rfbauth", passwordFile, "-geometry", "320x240", "-depth", "24"]);
                    break;
                case Flavour.TigerVncDefaultTypes:
                    Start("Xtigervnc", [display, "-rfbport", port, "-interface", "127.0.0.1", "-rfbauth", passwordFile, "-geometry", "320x240", "-depth", "24"]);
                    break;
                case Flavour.TightVnc:
                    Start("Xtightvnc", [display, "-rfbport", port, "-localhost", "-rfbauth", passwordFile, "-geometry", "320x240", "-depth", "24"]);
                    break;
                case Flavour.X11Vnc:
                    Start("Xvfb", [display, "-screen", "0", "320x240x24", "-nolisten", "tcp"]);
                    await Task.Delay(500);
                    Start("x11vnc", ["-display", display, "-rfbport", port, "-localhost", "-rfbauth", passwordFile, "-forever", "-shared", "-quiet"]);
                    break;
            }

            if (await FreePort.WaitUntilListeningAsync(Port, TimeSpan.FromSeconds(20), () => _processes.Any(p => p.HasExited)))
            {
                return;
            }

            foreach (var process in _processes)
            {
                await process.DisposeAsync();
            }

            _processes.Clear();
        }

        throw new InvalidOperationException($"{flavour} did not start");
    }

    /// <summary>Paints the root window a solid colour, so a viewer has non-blank pixels to check.</summary>
    public async Task PaintAsync(string color)
    {
        var painted = await ProcessRunner.RunAsync("xsetroot", ["-solid", color], environment: new Dictionary<string, string?> { ["DISPLAY"] = Display });
        Assert.True(painted.ExitCode == 0, "xsetroot failed: " + painted);
    }

    private void Start(string program, string[] arguments) => _processes.Add(ProcessRunner.Start(program, arguments));

    private static int FreeDisplay()
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var display = Random.Shared.Next(20, 600);
            if (!File.Exists($"/tmp/.X{display}-lock") && !File.Exists($"/tmp/.X11-unix/X{display}"))
            {
                return display;
            }
        }

        throw new InvalidOperationException("no free X display");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in Enumerable.Reverse(_processes))
        {
            await process.DisposeAsync();
        }

        _directory.Dispose();
    }
}
