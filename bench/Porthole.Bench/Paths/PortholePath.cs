using System.Globalization;
using System.Text.Json;
using Porthole.Tests.Common;

namespace Porthole.Bench.Paths;

/// <summary>
/// The real chain: <c>porthole forward</c> → porthole-server → porthole-agent → target, over plain ws:// or
/// wss:// end to end (the server's embedded self-signed certificate, pinned by fingerprint).
/// </summary>
public sealed class PortholePath : BenchPath
{
    private const string AdminPassword = "porthole-bench-password";
    private readonly TempDirectory _directory;
    private readonly List<ProcessRunner> _processes = [];
    private ProcessRunner _server = null!;
    private ProcessRunner _agent = null!;
    private ProcessRunner _forwardIperf = null!;
    private ProcessRunner _forwardEcho = null!;

    private readonly string? _variant;
    private readonly IReadOnlyDictionary<string, string?> _variantEnvironment;
    private readonly Binaries _binaries;

    private PortholePath(bool tls, string? variant, IReadOnlyDictionary<string, string?>? variantEnvironment)
    {
        Tls = tls;
        _variant = variant;
        var environment = new Dictionary<string, string?>(variantEnvironment ?? new Dictionary<string, string?>());
        _binaries = environment.Remove(Binaries.BuildVariable, out var build) && !string.IsNullOrEmpty(build) ? new Binaries(build) : Binaries.Default;
        _variantEnvironment = environment;
        _directory = new TempDirectory(tls ? "porthole-bench-wss" : "porthole-bench-ws");
    }

    public bool Tls { get; }

    public override string Key => (Tls ? "porthole-wss" : "porthole-ws") + (_variant is null ? "" : "+" + _variant);

    public override string Label => (Tls ? "Porthole wss://" : "Porthole ws://") + (_variant is null ? "" : $" ({_variant})");

    public Uri ServerUrl { get; private set; } = null!;

    public string? Fingerprint { get; private set; }

    public int ServerPid => _server.Id;

    public int AgentPid => _agent.Id;

    /// <summary>The <c>porthole forward</c> to the echo server, which the latency and set-up tests use.</summary>
    public int EchoForwardPid => _forwardEcho.Id;

    public override IEnumerable<int> ServerPids => [_server.Id];

    public override IEnumerable<int> ChainPids => [_forwardIperf.Id, _forwardEcho.Id, _server.Id, _agent.Id];

    /// <summary>The forward whose sessions go to the echo server (for idle-session memory).</summary>
    public string ConfigPath => _directory.Combine("cli", "config.json");

    // No proxy inherited from the machine: the same list the test fixtures clear for their agents.
    public IReadOnlyDictionary<string, string?> CliEnvironment
    {
        get
        {
            var environment = new Dictionary<string, string?>(Porthole.Tests.Common.Stack.Gateway.NoProxy);
            foreach (var (name, value) in _variantEnvironment)
            {
                environment[name] = value;
            }

            environment["PORTHOLE_CONFIG"] = ConfigPath;
            environment["PORTHOLE_SERVER"] = null;
            environment["PORTHOLE_TOKEN"] = null;
            return environment;
        }
    }

    public static async Task<PortholePath> StartAsync(
        bool tls, int iperfPort, int echoPort, IReadOnlyDictionary<string, string?>? serverEnvironment = null, string? variant = null, IReadOnlyDictionary<string, string?>? variantEnvironment = null)
    {
        var path = new PortholePath(tls, variant, variantEnvironment);
        try
        {
            await path.InitializeAsync(iperfPort, echoPort, serverEnvironment);
            return path;
        }
        catch
        {
            await path.DisposeAsync();
            throw;
        }
    }

    private async Task InitializeAsync(int iperfPort, int echoPort, IReadOnlyDictionary<string, string?>? serverEnvironment)
    {
        var environment = new Dictionary<string, string?> { ["PORTHOLE_ADMIN_PASSWORD"] = AdminPassword };
        foreach (var (name, value) in _variantEnvironment.Concat(serverEnvironment ?? new Dictionary<string, string?>()))
        {
            environment[name] = value;
        }

        _server = Own(ProcessRunner.Start(
            _binaries.Server,
            [
                "--urls", Tls ? "https://127.0.0.1:0" : "http://127.0.0.1:0", "--data-dir", _directory.Combine("server"),
                // The idle-session and capacity figures open far more sessions than the per-user default allows.
                "--Porthole:MaxSessionsPerUser=1000000", "--Porthole:MaxSessionsPerDevice=1000000",
                // With agent streams on, a path's streams connection must not be closed for idling while other paths
                // are measured, or its next test would measure a first session's connection of its own instead.
                "--Porthole:AgentStreamsIdleTimeout=01:00:00",
            ],
            environment));
        var listening = await _server.WaitForLineAsync(l => l.StartsWith("Listening on: ", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        ServerUrl = new Uri(listening["Listening on: ".Length..]);

        // A variant may have its clients reach the server by name, as a deployment does (.NET caches TLS contexts and
        // resumes sessions only for a host name); localhost is 127.0.0.1 here, and the certificate names it.
        if (_variantEnvironment.TryGetValue("PORTHOLE_BENCH_SERVER_HOST", out var host) && host is not null)
        {
            ServerUrl = new UriBuilder(ServerUrl) { Host = host }.Uri;
        }

        var fingerprintLine = _server.StandardOutputLines.FirstOrDefault(l => l.StartsWith("TLS certificate SHA-256 fingerprint: ", StringComparison.Ordinal));
        Fingerprint = fingerprintLine?[(fingerprintLine.IndexOf(": ", StringComparison.Ordinal) + 2)..];
        string[] pin = Tls && Fingerprint is not null ? ["--fingerprint", Fingerprint] : [];

        await CliOkAsync(["login", "--server", ServerUrl.ToString(), "--username", "admin", "--password-stdin", .. pin], AdminPassword + "\n");
        var token = await AddDeviceAsync("bench-gw");
        var state = _directory.Combine("agent");
        var enrol = await ProcessRunner.RunAsync(_binaries.Agent, ["enrol", "--server", ServerUrl.ToString(), "--token", token, "--state-dir", state, .. pin], timeout: TimeSpan.FromSeconds(60), environment: CliEnvironment);
        Check(enrol, "porthole-agent enrol");
        _agent = Own(ProcessRunner.Start(_binaries.Agent, ["run", "--state-dir", state], CliEnvironment));
        await WaitOnlineAsync("bench-gw");

        await CliOkAsync(["endpoints", "add", "bench-gw", "--name", "iperf", "--host", "127.0.0.1", "--port", iperfPort.ToString(CultureInfo.InvariantCulture), "--protocol", "tcp"]);
        await CliOkAsync(["endpoints", "add", "bench-gw", "--name", "echo", "--host", "127.0.0.1", "--port", echoPort.ToString(CultureInfo.InvariantCulture), "--protocol", "tcp"]);
        (_forwardIperf, IperfPort) = await ForwardAsync("bench-gw/iperf");
        (_forwardEcho, EchoPort) = await ForwardAsync("bench-gw/echo");
    }

    /// <summary>Registers a device and returns its enrolment token.</summary>
    public async Task<string> AddDeviceAsync(string name)
    {
        var output = await CliOkAsync(["devices", "add", name, "--json"]);
        using var json = JsonDocument.Parse(output);
        return json.RootElement.GetProperty("enrolmentToken").GetString()!;
    }

    /// <summary>The API token the CLI logged in with.</summary>
    public string ApiToken()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(ConfigPath));
        foreach (var property in json.RootElement.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.String && property.Value.GetString()!.StartsWith("pat_", StringComparison.Ordinal))
            {
                return property.Value.GetString()!;
            }
        }

        throw new InvalidOperationException("no API token in " + ConfigPath);
    }

    private async Task<(ProcessRunner Forward, int Port)> ForwardAsync(string target)
    {
        var forward = Own(ProcessRunner.Start(_binaries.Cli, ["forward", target, "--local-port", "0"], CliEnvironment));
        var line = await forward.WaitForLineAsync(l => l.StartsWith("Forwarding 127.0.0.1:", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        var address = line.Split(' ')[1];
        return (forward, int.Parse(address[(address.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture));
    }

    private async Task WaitOnlineAsync(string device)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            using var json = JsonDocument.Parse(await CliOkAsync(["devices", "show", device, "--json"]));
            if (json.RootElement.GetProperty("online").GetBoolean())
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"agent of {device} did not come online:\n{_agent.CapturedOutput}");
            }

            await Task.Delay(100);
        }
    }

    private async Task<string> CliOkAsync(IEnumerable<string> arguments, string? stdin = null)
    {
        var result = await ProcessRunner.RunAsync(_binaries.Cli, arguments, stdin, TimeSpan.FromSeconds(60), CliEnvironment);
        Check(result, "porthole " + string.Join(' ', arguments.Take(2)));
        return result.StandardOutput;
    }

    private static void Check(ProcessResult result, string what)
    {
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{what} failed: {result}");
        }
    }

    private ProcessRunner Own(ProcessRunner runner)
    {
        _processes.Add(runner);
        return runner;
    }

    public override string Diagnostics() => string.Join("\n", _processes.Select(p =>
        $"--- {Path.GetFileName(p.CommandLine.Split(' ')[0])} ---\n" + string.Join("\n", p.CapturedOutput.Split('\n').TakeLast(12))));

    /// <summary>Where the processes' output is saved when the path ends (<c>--logs DIR</c>), for timing studies.</summary>
    public static string? LogDirectory { get; set; }

    public override async ValueTask DisposeAsync()
    {
        if (LogDirectory is not null && _processes.Count > 0)
        {
            Directory.CreateDirectory(LogDirectory);
            await File.WriteAllTextAsync(Path.Combine(LogDirectory, Key + ".log"), string.Join("\n", _processes.Select(p => p.CapturedOutput)));
        }

        for (var i = _processes.Count - 1; i >= 0; i--)
        {
            await _processes[i].DisposeAsync();
        }

        _directory.Dispose();
        await base.DisposeAsync();
    }
}
