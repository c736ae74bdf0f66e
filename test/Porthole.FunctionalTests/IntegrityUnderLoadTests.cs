using System.Diagnostics;
using System.Globalization;
using Porthole.FunctionalTests.Fixtures;
using Xunit.Abstractions;

namespace Porthole.FunctionalTests;

/// <summary>Issue 8, fault 1: many concurrent sessions through the real server and agent lose, mix up or corrupt no byte.</summary>
public sealed class IntegrityUnderLoadTests(ITestOutputHelper output)
{
    private const int Sessions = 150;
    private const int MinBytes = 1 << 20;
    private const int MaxBytes = 8 << 20;

    [Fact]
    public async Task OneHundredFiftyConcurrentSessions_EachMovingMegabytesBothWays_ArriveIntactWithZeroErrors()
    {
        var stack = new PortholeStack { ServerArguments = ["--Porthole:MaxSessionsPerUser=200", "--Porthole:MaxSessionsPerDevice=200"] };
        await stack.InitializeAsync();
        Gateway? gateway = null;
        try
        {
            await using var echo = new HashingEchoServer();
            gateway = await stack.StartGatewayAsync("load-gw");
            await stack.CliOkAsync("endpoints", "add", "load-gw", "--name", "echo", "--host", "127.0.0.1", "--port", echo.Port.ToString(CultureInfo.InvariantCulture), "--protocol", "tcp");
            using var client = new DataSessionClient(stack);
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(150));
            var random = new Random(8);
            var sizes = Enumerable.Range(0, Sessions).Select(_ => random.Next(MinBytes, MaxBytes + 1)).ToArray();
            var clock = Stopwatch.StartNew();

            var results = await DataExchanges.RunConcurrentlyAsync(client, "load-gw", "echo", sizes, deadline.Token);

            var total = results.Sum(r => r.Size);
            output.WriteLine($"{Sessions} sessions, {total / 1e6:0} MB each way in {clock.Elapsed.TotalSeconds:0.0} s");
            Assert.All(results, r => Assert.Equal((r.Size, r.Sent), (r.ReceivedBytes, r.Received)));
            // What the device received, per connection: every session's upstream bytes, none mixed into another's.
            Assert.Empty(echo.Failed);
            Assert.Equal(results.Select(r => r.Sent).Order(), echo.Completed.Select(c => c.Sha256).Order());
            Assert.Equal(total, echo.Completed.Sum(c => c.Bytes));
            Assert.Empty(await WaitForNoSessionsAsync(client));
            // Nothing the server or the agent counted as an error (ASP.NET Core and the agent log those as "fail:"/"crit:").
            Assert.DoesNotContain(stack.Server.StandardOutputLines.Concat(stack.Server.StandardErrorLines), IsError);
            Assert.DoesNotContain(gateway.Agent.StandardOutputLines.Concat(gateway.Agent.StandardErrorLines), IsError);
        }
        catch
        {
            // The processes' own account of a failure is what explains it.
            output.WriteLine(stack.Server.CapturedOutput);
            await Task.Delay(1000);
            output.WriteLine($"agent exited: {gateway?.Agent.HasExited}");
            output.WriteLine(gateway?.Agent.CapturedOutput);
            throw;
        }
        finally
        {
            await stack.DisposeAsync();
        }
    }

    private static bool IsError(string line) => line.Contains("fail:", StringComparison.Ordinal) || line.Contains("crit:", StringComparison.Ordinal);

    private static async Task<List<Porthole.Protocol.Api.ActiveSessionDto>> WaitForNoSessionsAsync(DataSessionClient client)
    {
        for (var attempt = 0; ; attempt++)
        {
            var open = await client.ListAsync();
            if (open.Count == 0 || attempt == 50)
            {
                return open;
            }

            await Task.Delay(100);
        }
    }
}
