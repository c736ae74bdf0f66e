using Porthole.FunctionalTests.Fixtures;

namespace Porthole.FunctionalTests;

/// <summary>The agent's outbound connection: through HTTP proxies, and sessions that outlive a control reconnect.</summary>
[Collection(StackCollection.Name)]
public sealed class AgentConnectivityTests(PortholeStack stack)
{
    private static string NewName(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Agent_WithHttpsProxy_ConnectsAndCarriesSessionsThroughIt()
    {
        await using var proxy = await Tinyproxy.StartAsync();
        var device = NewName("proxied");
        var environment = new Dictionary<string, string?>(Gateway.NoProxy) { ["HTTPS_PROXY"] = proxy.Url.ToString() };
        await stack.StartGatewayAsync(device, agentEnvironment: environment);
        await stack.AddSshEndpointAsync(device);

        var result = await stack.SshThroughPortholeAsync($"{device}/ssh", "echo", "via-proxy");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("via-proxy", result.StandardOutput.Trim());
        var tunnels = proxy.Log.Count(l => l.Contains($"CONNECT 127.0.0.1:{stack.ServerUrl.Port}", StringComparison.Ordinal));
        Assert.True(tunnels >= 2, "expected a CONNECT for the control channel and one for the session:\n" + string.Join('\n', proxy.Log));
    }

    [Fact]
    public async Task Agent_WithCredentialsInTheProxyUrl_AuthenticatesToTheProxy()
    {
        // With OpenSSL doing the agent's TLS, Porthole sends the CONNECT itself; the proxy's Basic credentials come from
        // the URL, as SocketsHttpHandler takes them.
        await using var proxy = await Tinyproxy.StartAsync(basicAuth: "gateway s3cret");
        var device = NewName("proxy-auth");
        var environment = new Dictionary<string, string?>(Gateway.NoProxy) { ["HTTPS_PROXY"] = $"http://gateway:s3cret@127.0.0.1:{proxy.Port}" };
        await stack.StartGatewayAsync(device, agentEnvironment: environment);
        await stack.AddSshEndpointAsync(device);

        var result = await stack.SshThroughPortholeAsync($"{device}/ssh", "echo", "via-authenticated-proxy");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("via-authenticated-proxy", result.StandardOutput.Trim());

        // Every CONNECT carried the credentials at once: a tunnel for each request. (SocketsHttpHandler asks without
        // them first and again after the proxy's 407, so it would leave requests without a tunnel.)
        var requests = proxy.Log.Count(l => l.Contains($"CONNECT 127.0.0.1:{stack.ServerUrl.Port}", StringComparison.Ordinal));
        var tunnels = proxy.Log.Count(l => l.Contains("Established connection to host", StringComparison.Ordinal));
        Assert.True(requests >= 2 && tunnels == requests, $"{requests} CONNECT requests, {tunnels} tunnels:\n" + string.Join('\n', proxy.Log));
    }

    [Fact]
    public async Task Agent_WithNoProxyMatchingServer_BypassesTheProxy()
    {
        await using var proxy = await Tinyproxy.StartAsync();
        var device = NewName("bypass");
        var environment = new Dictionary<string, string?>(Gateway.NoProxy) { ["HTTPS_PROXY"] = proxy.Url.ToString(), ["NO_PROXY"] = "127.0.0.1" };

        await stack.StartGatewayAsync(device, agentEnvironment: environment);

        Assert.DoesNotContain(proxy.Log, l => l.Contains("CONNECT 127.0.0.1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Session_SurvivesAReconnectOfTheControlChannel()
    {
        await using var relay = await SocatRelay.StartAsync(stack.ServerUrl.Port);
        var device = NewName("flaky");
        var gateway = await stack.StartGatewayAsync(device, serverUrl: new Uri($"https://127.0.0.1:{relay.Port}"));
        await stack.AddSshEndpointAsync(device);

        // An interactive session that answers one line after the control channel has been cut.
        await using var ssh = ProcessRunner.Start(
            "ssh",
            [.. stack.Sshd.SshArgs("-o", $"ProxyCommand={Binaries.Cli} connect {device}/ssh"), stack.Sshd.Destination, "echo ready; read line; echo got-$line"],
            stack.CliEnvironment);
        await ssh.WaitForLineAsync(l => l == "ready", TimeSpan.FromSeconds(60));

        await relay.CutOldestConnectionAsync();
        await gateway.Agent.WaitForLineAsync(l => l.Contains("Control channel lost", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        await WaitForSecondConnectAsync(gateway);

        await ssh.StandardInput.WriteLineAsync("ping");
        await ssh.StandardInput.FlushAsync();
        await ssh.WaitForLineAsync(l => l == "got-ping", TimeSpan.FromSeconds(30));
        var exit = await ssh.RunToEndAsync(timeout: TimeSpan.FromSeconds(30));
        Assert.True(exit.ExitCode == 0, exit.ToString());
        Assert.True((await stack.ShowDeviceAsync(device)).Online);
    }

    [Fact]
    public async Task Session_ListedAndTerminatedByAnOperator_EndsWithTheReason()
    {
        var device = NewName("terminate");
        await using var ssh = await StartWaitingSshSessionAsync(device);

        var sessions = System.Text.Json.JsonSerializer.Deserialize(await stack.CliOkAsync("sessions", "list", "--json"), Porthole.Protocol.Api.ApiJsonContext.Default.ListActiveSessionDto)!;
        var session = Assert.Single(sessions, s => s.Device == device);
        Assert.True(session.Joined);
        Assert.Equal("tunnel", session.Action);

        await stack.CliOkAsync("sessions", "terminate", session.Id);

        var exit = await ssh.RunToEndAsync(timeout: TimeSpan.FromSeconds(30));
        Assert.NotEqual(0, exit.ExitCode);
        Assert.Contains("terminated by admin", exit.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain(System.Text.Json.JsonSerializer.Deserialize(await stack.CliOkAsync("sessions", "list", "--json"), Porthole.Protocol.Api.ApiJsonContext.Default.ListActiveSessionDto)!, s => s.Id == session.Id);
    }

    [Fact]
    public async Task Session_OnADeviceACommitDisables_EndsWithTheRule()
    {
        var device = NewName("cutoff");
        await using var ssh = await StartWaitingSshSessionAsync(device);

        await stack.CliOkAsync("remote-access", "stage", "--device", device, "--disable");
        try
        {
            var committed = await stack.CliOkAsync("remote-access", "commit");
            Assert.Contains("ended 1 open session(s)", committed, StringComparison.Ordinal);

            var exit = await ssh.RunToEndAsync(timeout: TimeSpan.FromSeconds(30));
            Assert.NotEqual(0, exit.ExitCode);
            Assert.Contains($"remote access to device '{device}' was disabled by device {device}", exit.StandardError, StringComparison.Ordinal);
            Assert.DoesNotContain(System.Text.Json.JsonSerializer.Deserialize(await stack.CliOkAsync("sessions", "list", "--json"), Porthole.Protocol.Api.ApiJsonContext.Default.ListActiveSessionDto)!, s => s.Device == device);
            Assert.Contains("remote access disabled by device " + device, await stack.CliOkAsync("audit", "list", "--action", "session.terminate"), StringComparison.Ordinal);
        }
        finally
        {
            await stack.CliOkAsync("remote-access", "stage", "--device", device, "--clear");
            await stack.CliOkAsync("remote-access", "commit");
        }
    }

    [Fact]
    public async Task KillSwitch_TurnedOffOnTheGateway_EndsTheOpenSession_RefusesNewOnes_UntilTurnedOnAgain()
    {
        var device = NewName("switch");
        var gateway = await stack.StartGatewayAsync(device);
        await using var ssh = await WaitingSshSessionAsync(device);

        var disabled = await ProcessRunner.RunAsync(Binaries.Agent, ["remote-access", "disable", "--state-dir", gateway.StateDirectory, "--reason", "on-site maintenance"], timeout: TimeSpan.FromSeconds(30));
        Assert.True(disabled.ExitCode == 0, disabled.ToString());

        var exit = await ssh.RunToEndAsync(timeout: TimeSpan.FromSeconds(30));
        Assert.NotEqual(0, exit.ExitCode);
        Assert.Contains($"remote access to device '{device}' was disabled on its gateway", exit.StandardError, StringComparison.Ordinal);
        Assert.Contains("remote access disabled on the gateway", await stack.CliOkAsync("audit", "list", "--action", "session.terminate"), StringComparison.Ordinal);
        var shown = await stack.ShowDeviceAsync(device);
        Assert.False(shown.RemoteAccessEnabled);
        Assert.Equal("agent", shown.RemoteAccessSource);

        var refused = await stack.CliAsync(["connect", $"{device}/ssh"], stdin: "");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("remote access is disabled on the agent", refused.StandardError, StringComparison.Ordinal);
        var status = await ProcessRunner.RunAsync(Binaries.Agent, ["remote-access", "status", "--state-dir", gateway.StateDirectory], timeout: TimeSpan.FromSeconds(30));
        Assert.Contains("Remote access: disabled", status.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("on-site maintenance", status.StandardOutput, StringComparison.Ordinal);

        var enabled = await ProcessRunner.RunAsync(Binaries.Agent, ["remote-access", "enable", "--state-dir", gateway.StateDirectory], timeout: TimeSpan.FromSeconds(30));
        Assert.True(enabled.ExitCode == 0, enabled.ToString());
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!(await stack.ShowDeviceAsync(device)).RemoteAccessEnabled)
        {
            Assert.True(DateTime.UtcNow < deadline, "the server did not hear the switch turned on:\n" + gateway.Agent.CapturedOutput);
            await Task.Delay(100);
        }

        var again = await ProcessRunner.RunAsync(
            "ssh", [.. stack.Sshd.SshArgs("-o", $"ProxyCommand={Binaries.Cli} connect {device}/ssh"), stack.Sshd.Destination, "echo again"],
            environment: stack.CliEnvironment, timeout: TimeSpan.FromSeconds(60));
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("again", again.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KillSwitchCommand_OnAStateDirectoryThatDoesNotExist_SaysSoAndExits2()
    {
        var result = await ProcessRunner.RunAsync(Binaries.Agent, ["remote-access", "disable", "--state-dir", "/nonexistent/porthole-agent"], timeout: TimeSpan.FromSeconds(30));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("/nonexistent/porthole-agent does not exist", result.StandardError, StringComparison.Ordinal);
        Assert.False(Directory.Exists("/nonexistent/porthole-agent"));
    }

    /// <summary>A gateway for <paramref name="device"/> with an ssh endpoint, and an ssh session through it that waits two minutes once it is up.</summary>
    private async Task<ProcessRunner> StartWaitingSshSessionAsync(string device)
    {
        await stack.StartGatewayAsync(device);
        return await WaitingSshSessionAsync(device);
    }

    /// <summary>An ssh endpoint on <paramref name="device"/>'s running gateway, and an ssh session through it that waits two minutes once it is up.</summary>
    private async Task<ProcessRunner> WaitingSshSessionAsync(string device)
    {
        await stack.AddSshEndpointAsync(device);
        var ssh = ProcessRunner.Start(
            "ssh",
            [.. stack.Sshd.SshArgs("-o", $"ProxyCommand={Binaries.Cli} connect {device}/ssh"), stack.Sshd.Destination, "echo ready; sleep 120"],
            stack.CliEnvironment);
        try
        {
            await ssh.WaitForLineAsync(l => l == "ready", TimeSpan.FromSeconds(60));
            return ssh;
        }
        catch
        {
            await ssh.DisposeAsync();
            throw;
        }
    }

    private static async Task WaitForSecondConnectAsync(Gateway gateway)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (gateway.Agent.StandardErrorLines.Count(l => l.Contains("Connected to", StringComparison.Ordinal)) < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "the agent did not reconnect:\n" + gateway.Agent.CapturedOutput);
            await Task.Delay(100);
        }
    }
}
