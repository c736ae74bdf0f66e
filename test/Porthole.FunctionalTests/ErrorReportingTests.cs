using System.Text.Json;
using Porthole.FunctionalTests.Fixtures;

namespace Porthole.FunctionalTests;

/// <summary>Every failure reaches the user as one clear line on stderr and a non-zero exit code.</summary>
[Collection(StackCollection.Name)]
public sealed class ErrorReportingTests(PortholeStack stack)
{
    private static string NewName(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Connect_WhenDeviceOffline_SaysOfflineAndExits1()
    {
        var device = NewName("offline");
        await stack.RegisterDeviceAsync(device);
        await stack.CliOkAsync("endpoints", "add", device, "--name", "ssh", "--host", "127.0.0.1", "--port", "22", "--protocol", "ssh");

        var result = await stack.CliAsync(["connect", $"{device}/ssh"], stdin: "");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"device '{device}' is offline", result.StandardError, StringComparison.Ordinal);
        Assert.Equal("", result.StandardOutput);
    }

    [Fact]
    public async Task Connect_WhenEndpointUnknown_SaysSoAndExits1()
    {
        var device = NewName("noendpoint");
        await stack.StartGatewayAsync(device);

        var result = await stack.CliAsync(["connect", $"{device}/nope"], stdin: "");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"device '{device}' has no endpoint 'nope'", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Forward_WhenDeviceUnknown_FailsBeforeListening()
    {
        var result = await stack.CliAsync(["forward", "no-such-device/ssh", "--local-port", "0"]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("device 'no-such-device' not found", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("Forwarding", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AServerThatAcceptsButNeverAnswersTls_IsReportedAsAConnectTimeout_NotAsASlowAnswer()
    {
        // Accepts TCP, then says nothing: the CLI's TLS handshake can never finish.
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        var port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
        var environment = new Dictionary<string, string?>(stack.CliEnvironment)
        {
            ["PORTHOLE_CONFIG"] = Path.Combine(Path.GetTempPath(), "porthole-none-" + Guid.NewGuid().ToString("N"), "config.json"),
            ["PORTHOLE_SERVER"] = $"https://127.0.0.1:{port}",
            ["PORTHOLE_TOKEN"] = "pat_not-a-real-token",
        };

        var started = DateTime.UtcNow;
        var result = await ProcessRunner.RunAsync(Binaries.Cli, ["devices", "list"], timeout: TimeSpan.FromSeconds(90), environment: environment);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("did not complete a connection (TCP and TLS) within 15 s", result.StandardError, StringComparison.Ordinal);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(14), TimeSpan.FromSeconds(80));
    }

    [Fact]
    public async Task Connect_WhenTargetRefuses_ReportsTheAgentsReason()
    {
        var device = NewName("refused");
        await stack.StartGatewayAsync(device);
        var closedPort = FreePort.Get();
        await stack.CliOkAsync("endpoints", "add", device, "--name", "dead", "--host", "127.0.0.1", "--port", closedPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--protocol", "tcp");

        var result = await stack.CliAsync(["connect", $"{device}/dead"], stdin: "");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"127.0.0.1:{closedPort} refused the connection", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("Connection refused", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_WhenTargetHostDoesNotResolve_ReportsUnreachable()
    {
        var device = NewName("unreachable");
        await stack.StartGatewayAsync(device);
        await stack.CliOkAsync("endpoints", "add", device, "--name", "ghost", "--host", "no-such-host.invalid", "--port", "22", "--protocol", "ssh");

        var result = await stack.CliAsync(["connect", $"{device}/ghost"], stdin: "");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no-such-host.invalid:22 is unreachable", result.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("169.254.169.254")]
    [InlineData("0xA9FEA9FE")]
    [InlineData("::ffff:169.254.169.254")]
    public async Task Connect_ToCloudMetadata_IsRefusedByTheAgentWhateverTheSpelling(string host)
    {
        var device = NewName("ssrf");
        await stack.StartGatewayAsync(device);
        await stack.CliOkAsync("endpoints", "add", device, "--name", "meta", "--host", host, "--port", "80", "--protocol", "http");

        var result = await stack.CliAsync(["connect", $"{device}/meta"], stdin: "");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("169.254.169.254:80 is denied by the agent's target policy", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_WhenAgentDisablesRemoteAccess_SaysDisabledAndDeviceShowsIt()
    {
        var device = NewName("killswitch");
        await stack.StartGatewayAsync(device, disableRemoteAccess: true);
        await stack.AddSshEndpointAsync(device);

        var result = await stack.CliAsync(["connect", $"{device}/ssh"], stdin: "");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("remote access is disabled on the agent", result.StandardError, StringComparison.Ordinal);
        var shown = await stack.ShowDeviceAsync(device);
        Assert.True(shown.Online);
        Assert.False(shown.RemoteAccessEnabled);
        Assert.Equal("agent", shown.RemoteAccessSource);
    }

    [Fact]
    public async Task CliAndAgent_WithAnUnknownClientTls_SayWhatItMayBeAndExit2()
    {
        var environment = new Dictionary<string, string?> { ["PORTHOLE_CLIENT_TLS"] = "gnutls" };

        var cli = await stack.CliAsync(["devices", "list"], environment: environment);
        var agent = await ProcessRunner.RunAsync(Binaries.Agent, ["run", "--state-dir", "/nonexistent"], timeout: TimeSpan.FromSeconds(60), environment: environment);

        foreach (var (result, name) in new[] { (cli, "porthole"), (agent, "porthole-agent") })
        {
            Assert.Equal(2, result.ExitCode);
            Assert.Equal($"{name}: PORTHOLE_CLIENT_TLS must be Auto, OpenSsl or SslStream, not 'gnutls'", result.StandardError.Trim());
        }
    }

    [Fact]
    public async Task Devices_OverSslStream_WorkAsOverOpenSsl()
    {
        // The previous TLS stack stays one variable away (docs/operations/configuration.md).
        var environment = new Dictionary<string, string?>(stack.CliEnvironment) { ["PORTHOLE_CLIENT_TLS"] = "SslStream" };
        var result = await stack.CliAsync(["devices", "list"], environment: environment);

        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public async Task Devices_WhenNotLoggedIn_SaysHowToLogInAndExits3()
    {
        using var empty = new TempDirectory("porthole-nologin");
        var environment = new Dictionary<string, string?>
        {
            ["PORTHOLE_CONFIG"] = empty.Combine("config.json"),
            ["PORTHOLE_SERVER"] = null,
            ["PORTHOLE_TOKEN"] = null,
        };

        var result = await stack.CliAsync(["devices", "list"], environment: environment);

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("not logged in", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("porthole login", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Devices_WithRevokedToken_SaysRevokedAndExits3()
    {
        using var second = new TempDirectory("porthole-revoke");
        var config = second.Combine("config.json");
        var environment = new Dictionary<string, string?> { ["PORTHOLE_CONFIG"] = config, ["PORTHOLE_SERVER"] = null, ["PORTHOLE_TOKEN"] = null };
        var login = await stack.CliAsync(
            ["login", "--server", stack.ServerUrl.ToString(), "--username", "admin", "--password-stdin", "--fingerprint", stack.Fingerprint],
            stdin: PortholeStack.AdminPassword + "\n",
            environment: environment);
        Assert.True(login.ExitCode == 0, login.ToString());
        var token = JsonDocument.Parse(await File.ReadAllTextAsync(config)).RootElement.GetProperty("token").GetString()!;

        var logout = await stack.CliAsync(["logout"], environment: environment);
        Assert.True(logout.ExitCode == 0, logout.ToString());

        var withRevoked = new Dictionary<string, string?>
        {
            ["PORTHOLE_CONFIG"] = second.Combine("none.json"),
            ["PORTHOLE_SERVER"] = stack.ServerUrl.ToString(),
            ["PORTHOLE_TOKEN"] = token,
            ["PORTHOLE_FINGERPRINT"] = stack.Fingerprint,
        };
        var result = await stack.CliAsync(["devices", "list"], environment: withRevoked);

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("revoked", result.StandardError, StringComparison.Ordinal);

        // A session opens in one WebSocket request; its refusal's problem details reach the user all the same.
        var session = await stack.CliAsync(["connect", "any-device/ssh"], stdin: "", environment: withRevoked);
        Assert.Equal(3, session.ExitCode);
        Assert.Contains("the server rejected the token: the API token has been revoked", session.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Login_WithWrongFingerprint_RefusesTheServer()
    {
        using var directory = new TempDirectory("porthole-pin");
        var environment = new Dictionary<string, string?> { ["PORTHOLE_CONFIG"] = directory.Combine("config.json"), ["PORTHOLE_SERVER"] = null, ["PORTHOLE_TOKEN"] = null };

        var result = await stack.CliAsync(
            ["login", "--server", stack.ServerUrl.ToString(), "--username", "admin", "--password-stdin", "--fingerprint", new string('A', 64)],
            stdin: PortholeStack.AdminPassword + "\n",
            environment: environment);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("fingerprint", result.StandardError, StringComparison.OrdinalIgnoreCase);
        Assert.False(File.Exists(directory.Combine("config.json")));
    }

    [Fact]
    public async Task Login_WithWrongPassword_FailsWithoutWritingConfig()
    {
        using var directory = new TempDirectory("porthole-badpw");
        var environment = new Dictionary<string, string?> { ["PORTHOLE_CONFIG"] = directory.Combine("config.json"), ["PORTHOLE_SERVER"] = null, ["PORTHOLE_TOKEN"] = null };

        var result = await stack.CliAsync(
            ["login", "--server", stack.ServerUrl.ToString(), "--username", "admin", "--password-stdin", "--fingerprint", stack.Fingerprint],
            stdin: "wrong\n",
            environment: environment);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("wrong username or password", result.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(directory.Combine("config.json")));
    }
}
