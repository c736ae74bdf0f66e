using Xunit;
using System.Text.Json;
using Porthole.Protocol.Api;

namespace Porthole.Tests.Common.Stack;

/// <summary>
/// A real Porthole server on 127.0.0.1 (random port, embedded defaults: SQLite + self-signed TLS), a logged-in
/// CLI configuration, a real OpenSSH server as a session target, and any number of gateway agents.
/// </summary>
public sealed class PortholeStack : IAsyncLifetime
{
    public const string AdminPassword = "functional-tests-password";

    private readonly TempDirectory _directory = new("porthole-stack");
    private readonly List<IAsyncDisposable> _owned = [];
    private ProcessRunner? _server;

    public Uri ServerUrl { get; private set; } = null!;

    public string Fingerprint { get; private set; } = "";

    public string ConfigPath => _directory.Combine("cli", "config.json");

    public string DataDirectory => _directory.Combine("server");

    public SshdFixture Sshd { get; private set; } = null!;

    public ProcessRunner Server => _server!;

    /// <summary>
    /// Extra server arguments, e.g. <c>--Porthole:MaxSessionsPerUser=200</c>; set before the stack starts. The server
    /// listens on a port chosen once, so <see cref="RestartServerAsync"/> brings it back at the same address.
    /// </summary>
    public IReadOnlyList<string> ServerArguments { get; init; } = [];

    /// <summary>Runs the server on plain HTTP (TLS terminated elsewhere, as behind a load balancer); <see cref="Fingerprint"/> is then empty.</summary>
    public bool PlainHttp { get; init; }

    /// <summary>Environment for CLI processes (including ssh's ProxyCommand): the logged-in configuration.</summary>
    public IReadOnlyDictionary<string, string?> CliEnvironment => new Dictionary<string, string?>
    {
        ["PORTHOLE_CONFIG"] = ConfigPath,
        ["PORTHOLE_SERVER"] = null,
        ["PORTHOLE_TOKEN"] = null,
    };

    public async Task InitializeAsync()
    {
        try
        {
            Sshd = await SshdFixture.StartAsync();
            await StartServerAsync(PlainHttp ? "http://127.0.0.1:0" : "https://127.0.0.1:0");

            var login = await CliAsync(["login", "--server", ServerUrl.ToString(), "--username", "admin", "--password-stdin", .. PinArguments()], stdin: AdminPassword + "\n");
            Assert.True(login.ExitCode == 0, "login failed: " + login);
        }
        catch
        {
            // Tests that make their own stack call this before their try/finally: a failed start must not leave the
            // server and sshd running for the rest of the suite (one did, on 2026-12-06).
            await DisposeAsync();
            throw;
        }
    }

    /// <summary>The CLI's and agent's pin of the server's certificate; none over plain HTTP.</summary>
    private string[] PinArguments() => Fingerprint.Length > 0 ? ["--fingerprint", Fingerprint] : [];

    private async Task StartServerAsync(string url)
    {
        _server = ProcessRunner.Start(
            Binaries.Server,
            ["--urls", url, "--data-dir", DataDirectory, .. ServerArguments],
            new Dictionary<string, string?> { ["PORTHOLE_ADMIN_PASSWORD"] = AdminPassword });
        var listening = await _server.WaitForLineAsync(l => l.StartsWith("Listening on: ", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        ServerUrl = new Uri(listening["Listening on: ".Length..]);
        var fingerprintLine = _server.StandardOutputLines.SingleOrDefault(l => l.StartsWith("TLS certificate SHA-256 fingerprint: ", StringComparison.Ordinal));
        Fingerprint = fingerprintLine?[(fingerprintLine.IndexOf(": ", StringComparison.Ordinal) + 2)..] ?? "";
        Assert.True(PlainHttp || Fingerprint.Length > 0, "the server printed no certificate fingerprint");
        await WaitUntilAnsweringAsync(ServerUrl, TimeSpan.FromSeconds(120));
    }

    /// <summary>
    /// Waits until the server completes a TLS handshake and answers <c>/healthz</c>. "Listening" comes before the
    /// process has JIT-compiled its TLS and HTTP paths; on a CI machine loaded by the other test processes the first
    /// handshake once took longer than the CLI's 15 s connect timeout, and the fixture's login failed (2026-12-06).
    /// </summary>
    private static async Task WaitUntilAnsweringAsync(Uri server, TimeSpan limit)
    {
        // A readiness probe only: the CLI calls that follow pin the certificate.
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator, UseProxy = false };
        using var http = new HttpClient(handler) { Timeout = limit };
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(new Uri(server, "/healthz"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                // Not answering yet.
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"the server at {server} did not answer /healthz within {limit.TotalSeconds:0} s");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>
    /// Sends SIGTERM to the server (a service manager's stop) and waits for it to exit; returns its exit code.
    /// The previous process stays readable through <see cref="Server"/> until <see cref="RestartServerAsync"/>.
    /// </summary>
    public async Task<int> StopServerAsync(TimeSpan timeout)
    {
        await Signals.SendAsync(Server.Id, "TERM");
        var result = await Server.RunToEndAsync(timeout: timeout);
        return result.ExitCode;
    }

    /// <summary>Starts the server again on the same address, data directory and arguments.</summary>
    public async Task RestartServerAsync()
    {
        var previous = _server;
        var url = $"{ServerUrl.Scheme}://127.0.0.1:{ServerUrl.Port}";
        if (previous is not null)
        {
            await previous.DisposeAsync();
        }

        // The port was just released by the previous process; retry briefly in case the kernel still holds it.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await StartServerAsync(url);
                return;
            }
            catch (TimeoutException) when (attempt < 5)
            {
                await _server!.DisposeAsync();
                await Task.Delay(500);
            }
        }
    }

    /// <summary>
    /// Runs the CLI with the logged-in configuration. A run that could not even connect within the CLI's connect
    /// timeout is run once more: on a CI machine loaded by the other test processes a fresh CLI process once took
    /// longer than 15 s for TCP and TLS together (2026-12-06, twice in one day), which says nothing about the server.
    /// </summary>
    public async Task<ProcessResult> CliAsync(IEnumerable<string> arguments, string? stdin = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var list = arguments.ToList();
        var result = await ProcessRunner.RunAsync(Binaries.Cli, list, stdin, TimeSpan.FromSeconds(90), environment ?? CliEnvironment);
        return result.ExitCode != 0 && result.StandardError.Contains("did not complete a connection", StringComparison.Ordinal)
            ? await ProcessRunner.RunAsync(Binaries.Cli, list, stdin, TimeSpan.FromSeconds(90), environment ?? CliEnvironment)
            : result;
    }

    /// <summary>Runs the CLI and fails the test unless it exits 0.</summary>
    public async Task<string> CliOkAsync(params string[] arguments)
    {
        var result = await CliAsync(arguments);
        Assert.True(result.ExitCode == 0, $"porthole {string.Join(' ', arguments)} failed: {result}");
        return result.StandardOutput;
    }

    /// <summary>Starts a CLI process that keeps running (forward), owned by the stack.</summary>
    public ProcessRunner StartCli(params string[] arguments)
    {
        var runner = ProcessRunner.Start(Binaries.Cli, arguments, CliEnvironment);
        _owned.Add(runner);
        return runner;
    }

    /// <summary>Registers a device and returns its one-time enrolment token.</summary>
    public async Task<string> RegisterDeviceAsync(string name, params string[] extra)
    {
        var output = await CliOkAsync(["devices", "add", name, "--json", .. extra]);
        return JsonSerializer.Deserialize(output, ApiJsonContext.Default.CreateDeviceResponse)!.EnrolmentToken;
    }

    /// <summary>Registers, enrols and runs an agent for a new device, and waits until the server sees it online.</summary>
    public async Task<Gateway> StartGatewayAsync(
        string name, bool disableRemoteAccess = false, Uri? serverUrl = null, IReadOnlyDictionary<string, string?>? agentEnvironment = null, IReadOnlyList<string>? agentArguments = null)
    {
        var token = await RegisterDeviceAsync(name);
        var stateDirectory = _directory.Combine("agents", name);
        var enrol = await ProcessRunner.RunAsync(
            Binaries.Agent,
            ["enrol", "--server", (serverUrl ?? ServerUrl).ToString(), "--token", token, "--state-dir", stateDirectory, .. PinArguments()],
            timeout: TimeSpan.FromSeconds(60));
        Assert.True(enrol.ExitCode == 0, "enrol failed: " + enrol);

        var gateway = new Gateway(name, stateDirectory) { ExtraArguments = agentArguments ?? [] };
        gateway.Start(disableRemoteAccess, agentEnvironment);
        _owned.Add(gateway);
        await WaitForOnlineAsync(name, expected: true);
        return gateway;
    }

    /// <summary>Polls <c>devices show --json</c> until the device's <c>online</c> is <paramref name="expected"/>.</summary>
    public async Task<DeviceDto> WaitForOnlineAsync(string name, bool expected, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var device = await ShowDeviceAsync(name);
            if (device.Online == expected)
            {
                return device;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"device {name} did not become {(expected ? "online" : "offline")}: {JsonSerializer.Serialize(device, ApiJsonContext.Default.DeviceDto)}");
            }

            await Task.Delay(200);
        }
    }

    public async Task<DeviceDto> ShowDeviceAsync(string name) =>
        JsonSerializer.Deserialize(await CliOkAsync("devices", "show", name, "--json"), ApiJsonContext.Default.DeviceDto)!;

    /// <summary>Adds an endpoint to the test sshd on <paramref name="device"/>, named <c>ssh</c>.</summary>
    public Task AddSshEndpointAsync(string device) =>
        CliOkAsync("endpoints", "add", device, "--name", "ssh", "--host", Sshd.Host, "--port", Sshd.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--protocol", "ssh");

    /// <summary>ssh with the test key through <c>porthole connect</c> as ProxyCommand.</summary>
    public Task<ProcessResult> SshThroughPortholeAsync(string target, params string[] command) =>
        ProcessRunner.RunAsync(
            "ssh",
            [.. Sshd.SshArgs("-o", $"ProxyCommand={Binaries.Cli} connect {target}"), Sshd.Destination, .. command],
            timeout: TimeSpan.FromSeconds(60),
            environment: CliEnvironment);

    public async Task DisposeAsync()
    {
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        if (Sshd is not null)
        {
            await Sshd.DisposeAsync();
        }

        _directory.Dispose();
    }
}
