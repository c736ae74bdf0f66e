using System.Globalization;

namespace Porthole.FunctionalTests.Fixtures;

/// <summary>A real HTTP proxy (tinyproxy) on 127.0.0.1, logging every CONNECT, as a site's outbound proxy would.</summary>
public sealed class Tinyproxy : IAsyncDisposable
{
    private readonly TempDirectory _directory = new("porthole-tinyproxy");
    private ProcessRunner? _process;

    public int Port { get; private set; }

    public Uri Url => new($"http://127.0.0.1:{Port}");

    /// <summary>Lines tinyproxy logged so far.</summary>
    public IReadOnlyList<string> Log => _process?.StandardOutputLines.Concat(_process.StandardErrorLines).ToList() ?? [];

    /// <summary>Starts tinyproxy; with <paramref name="basicAuth"/> ("user password") it refuses clients without those credentials.</summary>
    public static async Task<Tinyproxy> StartAsync(string? basicAuth = null)
    {
        var proxy = new Tinyproxy { Port = FreePort.Get() };
        var config = proxy._directory.WriteFile("tinyproxy.conf", string.Create(CultureInfo.InvariantCulture, $"""
            Port {proxy.Port}
            Listen 127.0.0.1
            Allow 127.0.0.1
            Timeout 600
            MaxClients 100
            LogLevel Connect
            {(basicAuth is null ? "" : "BasicAuth " + basicAuth)}

            """));
        proxy._process = ProcessRunner.Start("tinyproxy", ["-d", "-c", config]);
        if (!await FreePort.WaitUntilListeningAsync(proxy.Port, TimeSpan.FromSeconds(15), () => proxy._process.HasExited))
        {
            throw new InvalidOperationException("tinyproxy did not start: " + proxy._process.CapturedOutput);
        }

        return proxy;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        _directory.Dispose();
    }
}
