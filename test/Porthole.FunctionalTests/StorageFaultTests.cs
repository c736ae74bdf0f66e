using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using Porthole.FunctionalTests.Fixtures;
using Porthole.Protocol.Api;
using Xunit.Abstractions;

namespace Porthole.FunctionalTests;

/// <summary>
/// Issue 8, fault 7: a database locked by another process, and a full disk. The server answers 503
/// storage-unavailable with the reason (not a hang, not a 500), writes nothing half-way, and a session that is
/// already open keeps running.
/// </summary>
public sealed class StorageFaultTests(ITestOutputHelper output)
{
    [Fact]
    public async Task DatabaseLockedByAnotherProcess_WritesAnswer503WithTheReason_AndAnOpenSessionKeepsRunning()
    {
        var stack = new PortholeStack { ServerArguments = ["--Porthole:DatabaseBusyTimeout=00:00:01"] };
        await stack.InitializeAsync();
        try
        {
            await using var echo = new HashingEchoServer();
            await stack.StartGatewayAsync("busy-gw");
            await stack.CliOkAsync("endpoints", "add", "busy-gw", "--name", "echo", "--host", "127.0.0.1", "--port", echo.Port.ToString(CultureInfo.InvariantCulture), "--protocol", "tcp");
            using var client = new DataSessionClient(stack);
            var (sessionId, session) = await client.OpenAsync("busy-gw", "echo");

            // Another process takes the database's write lock and keeps it (an admin's sqlite3, a backup tool).
            await using var holder = ProcessRunner.Start("sqlite3", [Path.Combine(stack.DataDirectory, "porthole.db")]);
            await holder.StandardInput.WriteLineAsync("PRAGMA journal_mode; BEGIN EXCLUSIVE; SELECT 'locked';");
            await holder.StandardInput.FlushAsync();
            await holder.WaitForLineAsync(l => l == "locked", TimeSpan.FromSeconds(10));
            output.WriteLine("journal mode: " + holder.StandardOutputLines[0]);

            var clock = Stopwatch.StartNew();
            using (var refused = await client.Http.PostAsJsonAsync("/api/v1/devices", new CreateDeviceRequest("busy-new"), ApiJsonContext.Default.CreateDeviceRequest))
            {
                var body = await refused.Content.ReadAsStringAsync();
                output.WriteLine($"{(int)refused.StatusCode} after {clock.Elapsed.TotalSeconds:0.0} s: {body}");
                Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
                Assert.Contains("storage-unavailable", body, StringComparison.Ordinal);
                Assert.Contains("the database is locked", body, StringComparison.Ordinal);
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the request waited far longer than the 1 s busy timeout");
            }

            // The session opened before the lock carries 1 MB each way, intact, while the database is locked.
            var exchange = await DataFraming.ExchangeAsync(session, seed: 3, 1 << 20, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal((1L << 20, exchange.Sent), (exchange.ReceivedBytes, exchange.Received));

            // The session ends while the database is still locked; its audit record waits for the lock, it is not lost.
            await session.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
            session.Dispose();
            await stack.Server.WaitForLineAsync(l => l.Contains("Audit record session.close not stored yet", StringComparison.Ordinal), TimeSpan.FromSeconds(20));
            await holder.StandardInput.WriteLineAsync("COMMIT;");
            await holder.RunToEndAsync(".quit\n");
            var deadline = Stopwatch.StartNew();
            while (!(await client.AuditAsync("session.close")).Any(e => e.Detail?.Contains(sessionId, StringComparison.Ordinal) == true))
            {
                Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(20), "the session's close was never audited");
                await Task.Delay(200);
            }

            // Nothing half-written, and the store works again.
            Assert.Equal(HttpStatusCode.NotFound, (await client.Http.GetAsync("/api/v1/devices/busy-new")).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await client.Http.PostAsJsonAsync("/api/v1/devices", new CreateDeviceRequest("busy-new"), ApiJsonContext.Default.CreateDeviceRequest)).StatusCode);
        }
        finally
        {
            await stack.DisposeAsync();
        }
    }

    /// <summary>The data directory on a 16 MiB tmpfs that the test fills (needs root, as the test machine and CI run).</summary>
    [Fact]
    public async Task DiskFull_WritesAnswer503WithTheReason_NeverA500_AndWorkAgainOnceThereIsSpace()
    {
        var stack = new PortholeStack();
        Directory.CreateDirectory(stack.DataDirectory);
        var mount = await ProcessRunner.RunAsync("mount", ["-t", "tmpfs", "-o", "size=16m", "tmpfs", stack.DataDirectory]);
        Assert.True(mount.ExitCode == 0, "this test mounts a tmpfs and must run as root: " + mount);
        try
        {
            await stack.InitializeAsync();
            using var client = new DataSessionClient(stack);
            var filler = Path.Combine(stack.DataDirectory, "filler");
            var fill = await ProcessRunner.RunAsync("dd", ["if=/dev/zero", "of=" + filler, "bs=64k"], timeout: TimeSpan.FromSeconds(30));
            output.WriteLine("dd: " + fill.StandardError.Split('\n').LastOrDefault());

            // Write until the disk refuses; SQLite may first fill pages it already owns.
            HttpStatusCode status = 0;
            string body = "";
            var name = "";
            for (var i = 0; i < 200 && status != HttpStatusCode.ServiceUnavailable; i++)
            {
                name = $"full-{i}-{new string('x', 50)}";
                using var response = await client.Http.PostAsJsonAsync("/api/v1/devices", new CreateDeviceRequest(name, Tags: [.. Enumerable.Range(0, 20).Select(t => $"tag-{i}-{t}")]), ApiJsonContext.Default.CreateDeviceRequest);
                status = response.StatusCode;
                body = await response.Content.ReadAsStringAsync();
                Assert.True(status is HttpStatusCode.Created or HttpStatusCode.ServiceUnavailable, $"write {i}: {(int)status} {body}");
            }

            output.WriteLine(body);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Contains("storage-unavailable", body, StringComparison.Ordinal);
            Assert.Contains("the disk is full", body, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, (await client.Http.GetAsync("/healthz")).StatusCode);

            File.Delete(filler);
            Assert.Equal(HttpStatusCode.NotFound, (await client.Http.GetAsync($"/api/v1/devices/{name}")).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await client.Http.PostAsJsonAsync("/api/v1/devices", new CreateDeviceRequest("after-full"), ApiJsonContext.Default.CreateDeviceRequest)).StatusCode);
            var integrity = await ProcessRunner.RunAsync("sqlite3", [Path.Combine(stack.DataDirectory, "porthole.db"), "PRAGMA integrity_check;"]);
            Assert.True(integrity is { ExitCode: 0, StandardOutput: "ok" }, integrity.ToString());
        }
        finally
        {
            await stack.DisposeAsync();
            await ProcessRunner.RunAsync("umount", ["--lazy", stack.DataDirectory]);
        }
    }
}
