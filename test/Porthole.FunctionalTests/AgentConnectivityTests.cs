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

    /// <summary>A gateway for <paramref name="device"/> with an ssh endpoint, and an ssh session through it that waits two minutes once it is up.</summary>
    private async Task<ProcessRunner> StartWaitingSshSessionAsync(string device)
    {
        await stack.StartGatewayAsync(device);
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
