using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using Porthole.FunctionalTests.Fixtures;
using Porthole.Protocol.Control;
using Porthole.Tunnel.Transport;
using Xunit.Abstractions;

namespace Porthole.FunctionalTests;

/// <summary>
/// Sessions carried on the agent's streams connection (docs/design/agent-streams.md) by the real server and agent,
/// with <c>Porthole:AgentStreams</c> on: many sessions on one connection, real OpenSSH over a stream, the end of
/// the connection ending its sessions with a reason, and an agent that does not announce streams served as before.
/// </summary>
public sealed class AgentStreamsTests(AgentStreamsTests.StreamsStack fixture, ITestOutputHelper output) : IClassFixture<AgentStreamsTests.StreamsStack>
{
    private PortholeStack Stack => fixture.Stack;

    [Fact]
    public async Task ConcurrentSessions_OnOneStreamsConnection_ArriveIntact()
    {
        const int Sessions = 40;
        var device = await StartStreamsGatewayAsync("streams-load");
        await using var echo = new HashingEchoServer();
        await Stack.CliOkAsync("endpoints", "add", device, "--name", "echo", "--host", "127.0.0.1", "--port", echo.Port.ToString(CultureInfo.InvariantCulture), "--protocol", "tcp");
        using var client = new DataSessionClient(Stack);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var random = new Random(7);
        var sizes = Enumerable.Range(0, Sessions).Select(_ => random.Next(256 * 1024, 4 << 20)).ToArray();

        var results = await Task.WhenAll(Enumerable.Range(0, Sessions).Select(i => Task.Run(async () =>
        {
            var (id, webSocket) = await client.OpenAsync(device, "echo", deadline.Token);
            using (webSocket)
            {
                var exchange = await DataFraming.ExchangeAsync(webSocket, seed: i, sizes[i], deadline.Token);
                await webSocket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", deadline.Token);
                return (Id: id, Size: (long)sizes[i], exchange.Sent, exchange.Received, exchange.ReceivedBytes);
            }
        })));

        Assert.All(results, r => Assert.Equal((r.Size, r.Sent), (r.ReceivedBytes, r.Received)));
        Assert.Empty(echo.Failed);
        Assert.Equal(results.Select(r => r.Sent).Order(), echo.Completed.Select(c => c.Sha256).Order());

        // Every one of them travelled as a stream, none on a connection of its own, relayed on the connections' pipes.
        foreach (var result in results)
        {
            var ended = await Stack.Server.WaitForLineAsync(l => l.Contains($"Session {result.Id} ended:", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
            Assert.EndsWith("(stream frame relay)", ended, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(Stack.Server.StandardOutputLines, l => l.Contains("fail:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Ssh_OverAStream_RunsRemoteCommand()
    {
        var device = await StartStreamsGatewayAsync("streams-ssh");
        await Stack.AddSshEndpointAsync(device);

        var result = await Stack.SshThroughPortholeAsync($"{device}/ssh", "echo", "hello", "over", "a", "stream");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("hello over a stream", result.StandardOutput.Trim());
        var opened = await Stack.Server.WaitForLineAsync(l => l.Contains($" to {device}/ssh", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        var sessionId = opened[(opened.IndexOf("Session ", StringComparison.Ordinal) + 8)..].Split(' ')[0];
        var ended = await Stack.Server.WaitForLineAsync(l => l.Contains($"Session {sessionId} ended:", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        Assert.EndsWith("(stream frame relay)", ended, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BrowserTerminal_OverAStream_RunsACommandWithTheStoredKey()
    {
        var device = await StartStreamsGatewayAsync("streams-term");
        await Stack.CliOkAsync("endpoints", "add", device, "--name", "shell", "--host", "127.0.0.1", "--port", Stack.Sshd.Port.ToString(CultureInfo.InvariantCulture), "--protocol", "ssh");
        await Stack.CliOkAsync("endpoints", "set-credential", $"{device}/shell", "--kind", "ssh-key", "--username", Stack.Sshd.User, "--private-key", Stack.Sshd.ClientKeyPath);

        // The server is the SSH client here: it runs SSH over the agent's leg, which is a stream.
        using (var terminal = await SessionClient.OpenAsync(Stack, device, "shell", "terminal"))
        {
            await SshTerminalTests.SendAsync(terminal, "echo stream-$((6*7))\n", WebSocketMessageType.Binary);
            Assert.Contains("stream-42", await SshTerminalTests.ReadUntilAsync(terminal, "stream-42"), StringComparison.Ordinal);
            await SshTerminalTests.SendAsync(terminal, "exit\n", WebSocketMessageType.Binary);
            await SshTerminalTests.ReadUntilAsync(terminal, null);
        }

        var opened = await Stack.Server.WaitForLineAsync(l => l.Contains($" to {device}/shell", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        var sessionId = opened[(opened.IndexOf("Session ", StringComparison.Ordinal) + 8)..].Split(' ')[0];
        var ended = await Stack.Server.WaitForLineAsync(l => l.Contains($"Session {sessionId} ended:", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        Assert.EndsWith("(stream relay)", ended, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LosingTheStreamsConnection_EndsItsSessionsWithTheReason()
    {
        var device = await StartStreamsGatewayAsync("streams-drop");
        await using var echo = new HashingEchoServer();
        await Stack.CliOkAsync("endpoints", "add", device, "--name", "echo", "--host", "127.0.0.1", "--port", echo.Port.ToString(CultureInfo.InvariantCulture), "--protocol", "tcp");
        using var client = new DataSessionClient(Stack);
        var (_, webSocket) = await client.OpenAsync(device, "echo");
        using (webSocket)
        {
            // The session works, then its agent dies with the connection.
            await webSocket.SendAsync("ping"u8.ToArray(), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
            var buffer = new byte[16];
            var echoed = await webSocket.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal("ping", System.Text.Encoding.ASCII.GetString(buffer, 0, echoed.Count));
            fixture.Gateways[device].Agent.Kill();

            var closed = await webSocket.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal(WebSocketMessageType.Close, closed.MessageType);
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, webSocket.CloseStatus);
            Assert.Equal("agent disconnected", webSocket.CloseStatusDescription);
        }
    }

    [Fact]
    public async Task AnAgentThatDoesNotAnnounceStreams_IsAskedForAConnectionOfItsOwn()
    {
        var device = "streams-old-" + Guid.NewGuid().ToString("N")[..8];
        var token = await Stack.RegisterDeviceAsync(device);
        using var state = new TempDirectory("porthole-oldagent");
        var enrol = await ProcessRunner.RunAsync(Binaries.Agent, ["enrol", "--server", Stack.ServerUrl.ToString(), "--token", token, "--state-dir", state.Path, "--fingerprint", Stack.Fingerprint], timeout: TimeSpan.FromSeconds(60));
        Assert.True(enrol.ExitCode == 0, enrol.ToString());
        var credential = JsonDocument.Parse(await File.ReadAllTextAsync(state.Combine("agent.json"))).RootElement.GetProperty("credential").GetString()!;
        await Stack.CliOkAsync("endpoints", "add", device, "--name", "echo", "--host", "127.0.0.1", "--port", "9", "--protocol", "tcp");

        using var invoker = new HttpMessageInvoker(new ServerTrust(Stack.Fingerprint).CreateHandler());
        using var webSocket = await new DataWebSocketConnector(invoker).ConnectAsync(
            DataWebSocketConnector.ToWebSocketUri(Stack.ServerUrl, "/api/v1/agent/control"), credential, ControlProtocol.SubProtocol, null, CancellationToken.None);
        using var control = new ControlChannel(webSocket);
        await control.SendAsync(new HelloMessage(ControlProtocol.MinVersion, ControlProtocol.MaxVersion, "0.0.1", true, "old"), CancellationToken.None);
        var welcome = Assert.IsType<WelcomeMessage>((await control.ReceiveAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20))).Message);
        Assert.True(welcome.Streams, "the server offers streams to whoever can use them");

        using var client = new DataSessionClient(Stack);
        var opening = client.RequestAsync(device, "echo");
        var open = Assert.IsType<OpenSessionMessage>((await control.ReceiveAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20))).Message);

        Assert.Null(open.StreamId);
        Assert.NotEmpty(open.SessionKey);
        await control.SendAsync(new OpenFailedMessage(open.SessionId, OpenFailureReason.Refused, "test"), CancellationToken.None);
        using var refused = await opening;
        Assert.Equal(System.Net.HttpStatusCode.BadGateway, refused.StatusCode);
    }

    /// <summary>
    /// Starts a gateway and brings its streams connection up, so that its sessions take it: the agent opens it with
    /// its first session (here one to a closed port, refused), not before.
    /// </summary>
    private async Task<string> StartStreamsGatewayAsync(string prefix)
    {
        var device = prefix + "-" + Guid.NewGuid().ToString("N")[..8];
        fixture.Gateways[device] = await Stack.StartGatewayAsync(device);
        await WakeStreamsAsync(Stack, device);
        output.WriteLine($"{device}: streams connection up");
        return device;
    }

    /// <summary>Opens a session to a closed port of the gateway, which the agent takes as its cue to open the streams connection; waits until it is up.</summary>
    internal static async Task WakeStreamsAsync(PortholeStack stack, string device)
    {
        await stack.CliOkAsync("endpoints", "add", device, "--name", "wake", "--host", "127.0.0.1", "--port", "9", "--protocol", "tcp");
        using var client = new DataSessionClient(stack);
        using var refused = await client.RequestAsync(device, "wake");
        Assert.Equal(System.Net.HttpStatusCode.BadGateway, refused.StatusCode);
        await stack.Server.WaitForLineAsync(l => l.Contains($"Agent of device {device} opened its streams connection", StringComparison.Ordinal), TimeSpan.FromSeconds(20));
    }

    /// <summary>A server of its own with <c>Porthole:AgentStreams</c> on, for this class.</summary>
    public sealed class StreamsStack : IAsyncLifetime
    {
        public PortholeStack Stack { get; } = new() { ServerArguments = ["--Porthole:AgentStreams=true", "--Porthole:MaxSessionsPerUser=100", "--Porthole:MaxSessionsPerDevice=100"] };

        public Dictionary<string, Gateway> Gateways { get; } = [];

        public Task InitializeAsync() => Stack.InitializeAsync();

        public Task DisposeAsync() => Stack.DisposeAsync();
    }
}
