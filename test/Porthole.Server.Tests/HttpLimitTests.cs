using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Porthole.Server.Tests.Support;

namespace Porthole.Server.Tests;

/// <summary>Kestrel's limits, set from Porthole:Http, each enforced against a raw TCP client.</summary>
public sealed class HttpLimitTests
{
    [Fact]
    public async Task Defaults_AreSetExplicitly()
    {
        await using var server = await InProcessServer.StartAsync();
        var limits = server.App.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;

        Assert.Equal(
            (TimeSpan.FromSeconds(30), 32 * 1024, 8 * 1024, TimeSpan.FromMinutes(2), (long?)(1024 * 1024)),
            (limits.RequestHeadersTimeout, limits.MaxRequestHeadersTotalSize, limits.MaxRequestLineSize, limits.KeepAliveTimeout, limits.MaxRequestBodySize));
    }

    [Fact]
    public async Task SlowHeaders_PastRequestHeadersTimeout_Get408AndAreDisconnected()
    {
        await using var server = await InProcessServer.StartAsync(null, "--Porthole:Http:RequestHeadersTimeout=00:00:01");
        using var client = await ConnectAsync(server);
        var stream = client.GetStream();

        // Slowloris: the headers never end.
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: 1\r\n"));
        var clock = Stopwatch.StartNew();
        var answer = await ReadToEndAsync(stream, TimeSpan.FromSeconds(10));

        Assert.StartsWith("HTTP/1.1 408", answer, StringComparison.Ordinal);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task OversizedHeaders_Get431()
    {
        await using var server = await InProcessServer.StartAsync();
        using var client = await ConnectAsync(server);
        var stream = client.GetStream();

        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: {new string('a', 40 * 1024)}\r\n\r\n"));
        var answer = await ReadToEndAsync(stream, TimeSpan.FromSeconds(10));

        Assert.StartsWith("HTTP/1.1 431", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BodyLargerThanMaxRequestBodySize_Gets413ProblemDetails()
    {
        await using var server = await InProcessServer.StartAsync();
        using var admin = server.Client(await server.AdminTokenAsync());
        using var body = new StringContent("{\"name\": \"" + new string('x', 2 * 1024 * 1024) + "\"}", Encoding.UTF8, "application/json");

        using var response = await admin.PostAsync("/api/v1/devices", body);

        // Refused from the Content-Length, before the body is read; the server then closes the connection.
        Assert.Equal(System.Net.HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task IdleKeepAliveConnection_IsClosedAfterKeepAliveTimeout()
    {
        await using var server = await InProcessServer.StartAsync(null, "--Porthole:Http:KeepAliveTimeout=00:00:01");

        // The server's first answer pays for compiling its request path, which on a loaded CI machine took longer
        // than the 10 s this test allows for the answer and the close together (a CI run of 2026-12-06): pay it first.
        using (var warmUp = server.Client())
        {
            (await warmUp.GetAsync("/healthz")).EnsureSuccessStatusCode();
        }

        using var client = await ConnectAsync(server);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"));

        var clock = Stopwatch.StartNew();
        var answer = await ReadToEndAsync(stream, TimeSpan.FromSeconds(10));

        Assert.StartsWith("HTTP/1.1 200", answer, StringComparison.Ordinal);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task AZeroHeaderTimeout_StopsTheServerAtStartWithAClearMessage()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => InProcessServer.StartAsync(null, "--Porthole:Http:RequestHeadersTimeout=00:00:00"));

        Assert.Contains("Porthole:Http:RequestHeadersTimeout", error.Message, StringComparison.Ordinal);
    }

    private static async Task<TcpClient> ConnectAsync(InProcessServer server)
    {
        var client = new TcpClient();
        await client.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port);
        return client;
    }

    /// <summary>Everything the server sends until it closes the connection (fails the test if it never does).</summary>
    private static async Task<string> ReadToEndAsync(NetworkStream stream, TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        var received = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (IOException)
        {
            // A reset after the answer still ends the connection.
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"the server did not close the connection within {limit}; got: {Encoding.ASCII.GetString(received.ToArray())}");
        }

        return Encoding.ASCII.GetString(received.ToArray());
    }
}
