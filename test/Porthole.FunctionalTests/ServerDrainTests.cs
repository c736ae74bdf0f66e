using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Porthole.FunctionalTests.Fixtures;
using Xunit.Abstractions;

namespace Porthole.FunctionalTests;

/// <summary>
/// Issue 8, fault 6: SIGTERM drains the server. No new sessions (503 with a reason); a session that finishes before
/// the deadline loses nothing; the rest are closed with "server shutting down"; agents are told and reconnect when
/// the server is back; the database is intact.
/// </summary>
public sealed class ServerDrainTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(4);

    [Fact]
    public async Task Sigterm_RefusesNewSessions_LetsOpenOnesFinish_ClosesTheRestAtTheDeadline_AndAgentsReconnectAfterRestart()
    {
        var stack = new PortholeStack { ServerArguments = ["--Porthole:ShutdownDrainTimeout=00:00:04"] };
        await stack.InitializeAsync();
        try
        {
            await using var echo = new HashingEchoServer();
            var gateway = await stack.StartGatewayAsync("drain-gw");
            await stack.CliOkAsync("endpoints", "add", "drain-gw", "--name", "echo", "--host", "127.0.0.1", "--port", echo.Port.ToString(CultureInfo.InvariantCulture), "--protocol", "tcp");
            await stack.RegisterDeviceAsync("drain-offline");
            await stack.CliOkAsync("endpoints", "add", "drain-offline", "--name", "echo", "--host", "127.0.0.1", "--port", "7", "--protocol", "tcp");
            using var client = new DataSessionClient(stack);
            var (finishingId, finishing) = await client.OpenAsync("drain-gw", "echo");
            var (lingeringId, lingering) = await client.OpenAsync("drain-gw", "echo");

            await Signals.SendAsync(stack.Server.Id, "TERM");
            var clock = Stopwatch.StartNew();

            // New sessions: 503 with a reason, even where the answer used to be "offline" (checked before anything else).
            var refusal = await WaitForRefusalAsync(client);
            Assert.Contains("server-shutting-down", refusal, StringComparison.Ordinal);
            Assert.Contains("shutting down", refusal, StringComparison.Ordinal);

            // The finishing session moves 2 MB each way after SIGTERM and ends cleanly: nothing lost.
            using (finishing)
            {
                var exchange = await DataFraming.ExchangeAsync(finishing, seed: 6, 2 << 20, CancellationToken.None);
                Assert.Equal((2L << 20, exchange.Sent), (exchange.ReceivedBytes, exchange.Received));
                await finishing.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
            }

            // The lingering one is closed at the deadline, with the reason.
            using (lingering)
            {
                var reason = await DataFraming.ReadCloseReasonAsync(lingering, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
                output.WriteLine($"lingering session closed after {clock.Elapsed.TotalSeconds:0.0} s: {reason}");
                Assert.Equal("server shutting down", reason);
                Assert.True(clock.Elapsed >= Deadline - TimeSpan.FromSeconds(0.5), $"closed before the deadline, after {clock.Elapsed}");
            }

            var exit = await stack.Server.RunToEndAsync(timeout: TimeSpan.FromSeconds(30));
            output.WriteLine($"server exited with {exit.ExitCode} after {clock.Elapsed.TotalSeconds:0.0} s");
            Assert.True(exit.ExitCode == 0, exit.ToString());
            await gateway.Agent.WaitForLineAsync(l => l.Contains("Control channel lost", StringComparison.Ordinal) && l.Contains("server shutting down", StringComparison.Ordinal), TimeSpan.FromSeconds(10));

            var integrity = await ProcessRunner.RunAsync("sqlite3", [Path.Combine(stack.DataDirectory, "porthole.db"), "PRAGMA integrity_check;"]);
            Assert.True(integrity is { ExitCode: 0, StandardOutput: "ok" }, integrity.ToString());

            await stack.RestartServerAsync();
            await stack.WaitForOnlineAsync("drain-gw", expected: true, TimeSpan.FromSeconds(90));
            var (_, again) = await client.OpenAsync("drain-gw", "echo");
            using (again)
            {
                var exchange = await DataFraming.ExchangeAsync(again, seed: 9, 64 * 1024, CancellationToken.None);
                Assert.Equal(exchange.Sent, exchange.Received);
                await again.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
            }

            var closes = await client.AuditAsync("session.close");
            Assert.Contains(closes, e => e.Detail!.Contains(finishingId, StringComparison.Ordinal) && e.Detail.EndsWith(", done", StringComparison.Ordinal));
            Assert.Contains(closes, e => e.Detail!.Contains(lingeringId, StringComparison.Ordinal) && e.Detail.EndsWith("server shutting down", StringComparison.Ordinal));
            var verify = JsonSerializer.Deserialize(await stack.CliOkAsync("audit", "verify", "--json"), Porthole.Protocol.Api.ApiJsonContext.Default.AuditVerification)!;
            Assert.True(verify.Intact, verify.Reason);
        }
        finally
        {
            await stack.DisposeAsync();
        }
    }

    private static async Task<string> WaitForRefusalAsync(DataSessionClient client)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using var response = await client.RequestAsync("drain-offline", "echo");
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                Assert.Equal("5", response.Headers.RetryAfter?.ToString());
                return body;
            }

            Assert.True(response.StatusCode == HttpStatusCode.Conflict && deadline.Elapsed < TimeSpan.FromSeconds(3), $"expected 409 offline then 503, got {(int)response.StatusCode} {body}");
            await Task.Delay(20);
        }
    }
}
