using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using Porthole.FunctionalTests.Fixtures;
using Porthole.Protocol.Api;
using Xunit.Abstractions;

namespace Porthole.FunctionalTests;

/// <summary>
/// Issue 8, fault 4: an agent killed mid-session, and a link that goes silent without a FIN. Both ends learn why
/// within two keep-alive periods (2 s here: interval 1 s + timeout 1 s), the audit log has the reason, no session is
/// left behind, and a restarted agent serves new sessions.
/// </summary>
public sealed class AgentFaultTests(ITestOutputHelper output)
{
    private static readonly TimeSpan KeepAlivePeriod = TimeSpan.FromSeconds(1);

    // Two periods, plus the watchdog's check granularity (a quarter of the limit) and scheduling on a busy 2-core machine.
    private static readonly TimeSpan DetectWithin = 2 * KeepAlivePeriod + TimeSpan.FromSeconds(1.5);

    private static readonly string[] FastKeepAlive = ["--keep-alive-interval", "1", "--keep-alive-timeout", "1"];

    private static PortholeStack NewStack() => new()
    {
        ServerArguments = ["--Porthole:KeepAliveInterval=00:00:01", "--Porthole:KeepAliveTimeout=00:00:01"],
    };

    [Fact]
    public async Task AgentKilledMidSession_ClientAndTargetSeeTheEnd_AuditHasTheReason_AndARestartedAgentServesNewSessions()
    {
        var stack = NewStack();
        await stack.InitializeAsync();
        try
        {
            await using var echo = new HashingEchoServer();
            var gateway = await stack.StartGatewayAsync("killed-gw", agentArguments: FastKeepAlive);
            await AddEchoEndpointAsync(stack, "killed-gw", echo);
            using var client = new DataSessionClient(stack);
            var (sessionId, webSocket) = await client.OpenAsync("killed-gw", "echo");
            using (webSocket)
            {
                await AssertEchoesAsync(webSocket);

                await Signals.SendAsync(gateway.Agent.Id, "KILL");
                var clock = Stopwatch.StartNew();
                var reason = await DataFraming.ReadCloseReasonAsync(webSocket, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
                var seen = clock.Elapsed;

                output.WriteLine($"client saw \"{reason}\" after {seen.TotalSeconds:0.00} s");
                Assert.StartsWith("agent disconnected", reason, StringComparison.Ordinal);
                Assert.True(seen < DetectWithin, $"the client learnt of the dead agent after {seen}");
                await WaitUntilAsync(() => echo.Open == 0, DetectWithin, "the target's connection did not end");
            }

            await AssertSessionGoneAndAuditedAsync(client, sessionId, "agent");

            await gateway.RestartAsync();
            await stack.WaitForOnlineAsync("killed-gw", expected: true, TimeSpan.FromSeconds(60));
            await AssertNewSessionWorksAsync(client, "killed-gw");
        }
        finally
        {
            await stack.DisposeAsync();
        }
    }

    [Fact]
    public async Task LinkGoesSilentWithoutFin_BothEndsCloseWithTheKeepAliveReason_AndTheAgentReconnectsAfterwards()
    {
        var stack = NewStack();
        await stack.InitializeAsync();
        try
        {
            await using var echo = new HashingEchoServer();
            await using var relay = await SocatRelay.StartAsync(stack.ServerUrl.Port);
            var gateway = await stack.StartGatewayAsync("silent-gw", serverUrl: new Uri($"https://127.0.0.1:{relay.Port}"), agentArguments: FastKeepAlive);
            await AddEchoEndpointAsync(stack, "silent-gw", echo);
            using var client = new DataSessionClient(stack);
            var (sessionId, webSocket) = await client.OpenAsync("silent-gw", "echo");
            using (webSocket)
            {
                await AssertEchoesAsync(webSocket);

                // Frozen, not closed: the kernel keeps both TCP connections open and no FIN or RST is ever sent.
                await relay.FreezeAsync();
                var clock = Stopwatch.StartNew();
                var reason = await DataFraming.ReadCloseReasonAsync(webSocket, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
                var seen = clock.Elapsed;

                output.WriteLine($"client saw \"{reason}\" after {seen.TotalSeconds:0.00} s");
                Assert.Equal("agent disconnected: no answer to keep-alive pings for 2 s", reason);
                Assert.True(seen < DetectWithin, $"the client learnt of the silent link after {seen}");

                // The agent's end: its own watchdog ends the session and closes the target connection.
                await WaitUntilAsync(() => echo.Open == 0, DetectWithin, "the agent did not close the target connection");
                await gateway.Agent.WaitForLineAsync(l => l.Contains(sessionId, StringComparison.Ordinal) && l.Contains("no answer to keep-alive pings", StringComparison.Ordinal), TimeSpan.FromSeconds(5));
            }

            await AssertSessionGoneAndAuditedAsync(client, sessionId, "no answer to keep-alive pings");

            // The link comes back; the agent's control channel (also found dead) reconnects through it.
            await relay.ThawAsync();
            await gateway.Agent.WaitForLineAsync(l => l.Contains("Control channel lost", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
            await WaitForConnectsAsync(gateway, 2);
            await AssertNewSessionWorksAsync(client, "silent-gw");
        }
        finally
        {
            await stack.DisposeAsync();
        }
    }

    private static Task AddEchoEndpointAsync(PortholeStack stack, string device, HashingEchoServer echo) =>
        stack.CliOkAsync("endpoints", "add", device, "--name", "echo", "--host", "127.0.0.1", "--port", echo.Port.ToString(CultureInfo.InvariantCulture), "--protocol", "tcp");

    private static async Task AssertEchoesAsync(WebSocket webSocket)
    {
        var ping = "ping"u8.ToArray();
        await webSocket.SendAsync(ping, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
        var buffer = new byte[16];
        var received = await webSocket.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(ping, buffer[..received.Count]);
    }

    private static async Task AssertSessionGoneAndAuditedAsync(DataSessionClient client, string sessionId, string reasonPart)
    {
        await WaitUntilAsync(async () => (await client.ListAsync()).All(s => s.Id != sessionId), TimeSpan.FromSeconds(10), "the session is still listed");

        // The close is audited once the session has left the list (a busy machine showed the gap): wait for the record.
        List<AuditEntryDto> closes = [];
        await WaitUntilAsync(
            async () => (closes = [.. (await client.AuditAsync("session.close")).Where(e => e.Detail?.Contains(sessionId, StringComparison.Ordinal) == true)]).Count > 0,
            TimeSpan.FromSeconds(10), "the session's close was not audited");
        var close = Assert.Single(closes);
        Assert.Contains(reasonPart, close.Detail, StringComparison.Ordinal);
    }

    private static async Task AssertNewSessionWorksAsync(DataSessionClient client, string device)
    {
        var (_, webSocket) = await client.OpenAsync(device, "echo");
        using (webSocket)
        {
            var exchange = await DataFraming.ExchangeAsync(webSocket, seed: 7, 256 * 1024, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(exchange.Sent, exchange.Received);
            await webSocket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        }
    }

    private static async Task WaitForConnectsAsync(Gateway gateway, int count)
    {
        await WaitUntilAsync(
            () => gateway.Agent.StandardErrorLines.Count(l => l.Contains("Connected to", StringComparison.Ordinal)) >= count,
            TimeSpan.FromSeconds(60), "the agent did not reconnect:\n" + gateway.Agent.CapturedOutput);
    }

    private static Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string failure) =>
        WaitUntilAsync(() => Task.FromResult(condition()), timeout, failure);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string failure)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(deadline.Elapsed < timeout, failure);
            await Task.Delay(50);
        }
    }
}
