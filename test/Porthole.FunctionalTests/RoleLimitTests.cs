using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using Porthole.FunctionalTests.Fixtures;
using Xunit.Abstractions;

namespace Porthole.FunctionalTests;

/// <summary>Idle timeout and maximum lifetime set per role (here for the Administrator the stack logs in as) end real sessions with the reason.</summary>
public sealed class RoleLimitTests(ITestOutputHelper output)
{
    [Fact]
    public async Task RoleIdleTimeoutAndMaxLifetime_EndSessionsOfThatRoleWithTheReason()
    {
        var stack = new PortholeStack
        {
            ServerArguments = ["--Porthole:RoleLimits:Administrator:SessionIdleTimeout=00:00:01", "--Porthole:RoleLimits:Administrator:SessionMaxLifetime=00:00:03"],
        };
        await stack.InitializeAsync();
        try
        {
            await using var echo = new HashingEchoServer();
            await stack.StartGatewayAsync("limits-gw");
            await stack.CliOkAsync("endpoints", "add", "limits-gw", "--name", "echo", "--host", "127.0.0.1", "--port", echo.Port.ToString(CultureInfo.InvariantCulture), "--protocol", "tcp");
            using var client = new DataSessionClient(stack);
            var (_, idle) = await client.OpenAsync("limits-gw", "echo");
            var (_, busy) = await client.OpenAsync("limits-gw", "echo");
            var clock = Stopwatch.StartNew();

            // The busy one stays active from the start (a message every 200 ms) and still ends at its maximum lifetime.
            var busyReading = DataFraming.ReadCloseReasonAsync(busy, CancellationToken.None);
            var ticking = Task.Run(async () =>
            {
                while (!busyReading.IsCompleted && clock.Elapsed < TimeSpan.FromSeconds(10))
                {
                    await busy.SendAsync("tick"u8.ToArray(), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
                    await Task.WhenAny(busyReading, Task.Delay(200));
                }
            });

            using (idle)
            {
                var reason = await DataFraming.ReadCloseReasonAsync(idle, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
                output.WriteLine($"idle session: \"{reason}\" after {clock.Elapsed.TotalSeconds:0.0} s");
                Assert.Equal("session idle for 1 s", reason);
            }

            using (busy)
            {
                var reason = await busyReading.WaitAsync(TimeSpan.FromSeconds(12));
                await Task.WhenAny(ticking);
                output.WriteLine($"busy session: \"{reason}\" after {clock.Elapsed.TotalSeconds:0.0} s");
                Assert.Equal("session reached its maximum lifetime", reason);
                Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(8));
            }
        }
        finally
        {
            await stack.DisposeAsync();
        }
    }
}
