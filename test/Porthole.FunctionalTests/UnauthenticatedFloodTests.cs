using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Porthole.FunctionalTests.Fixtures;
using Porthole.FunctionalTests.WebProxy;
using Xunit;
using Xunit.Abstractions;

namespace Porthole.FunctionalTests;

/// <summary>
/// Attack 10: a flood of connections that never authenticate — some never start TLS, some start it and then send
/// half a request — is closed by the server's own timeouts, costs no lasting memory, and a session already open
/// keeps carrying bytes meanwhile.
/// </summary>
public sealed class UnauthenticatedFloodTests(ITestOutputHelper output)
{
    private const int SilentConnections = 150;
    private const int HalfRequests = 150;

    [Fact]
    public async Task FloodOfUnauthenticatedConnections_IsClosedByTimeouts_WithoutMemoryGrowth_WhileASessionKeepsWorking()
    {
        var stack = new PortholeStack { ServerArguments = ["--Porthole:Http:RequestHeadersTimeout=00:00:02"] };
        await stack.InitializeAsync();
        var flood = new List<(TcpClient Tcp, Stream Stream)>();
        try
        {
            await using var echo = new HashingEchoServer();
            await stack.StartGatewayAsync("flood-gw");
            await stack.CliOkAsync("endpoints", "add", "flood-gw", "--name", "echo", "--host", "127.0.0.1", "--port", echo.Port.ToString(CultureInfo.InvariantCulture), "--protocol", "tcp");
            using var client = new DataSessionClient(stack);
            var (_, session) = await client.OpenAsync("flood-gw", "echo");
            await AssertEchoesAsync(session, seed: 1);
            var baseline = ProcessMemory.Rss(stack.Server.Id);

            // Connections that never send a TLS ClientHello, and TLS connections that send half a request.
            for (var i = 0; i < SilentConnections; i++)
            {
                var tcp = new TcpClient();
                await tcp.ConnectAsync("127.0.0.1", stack.ServerUrl.Port);
                flood.Add((tcp, tcp.GetStream()));
            }

            for (var i = 0; i < HalfRequests; i++)
            {
                var tcp = new TcpClient();
                await tcp.ConnectAsync("127.0.0.1", stack.ServerUrl.Port);
                var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
                await tls.AuthenticateAsClientAsync("127.0.0.1");
                await tls.WriteAsync(Encoding.ASCII.GetBytes("GET /api/v1/devices HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
                await tls.FlushAsync();
                flood.Add((tcp, tls));
            }

            var during = ProcessMemory.Rss(stack.Server.Id);
            await AssertEchoesAsync(session, seed: 2);

            // Every flood connection is closed by the server: half requests by the header timeout (2 s here, with a
            // 408), silent ones by the TLS handshake timeout (Kestrel's 10 s).
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var closings = flood.Select(f => ReadUntilClosedAsync(f.Stream, deadline.Token)).ToList();
            var answers = await Task.WhenAll(closings);
            Assert.All(answers, a => Assert.True(a.Closed, "a flood connection was still open after 30 s"));
            var timedOut = answers.Skip(SilentConnections).Count(a => a.Text.StartsWith("HTTP/1.1 408", StringComparison.Ordinal));
            Assert.Equal(HalfRequests, timedOut);

            await AssertEchoesAsync(session, seed: 3);
            var after = ProcessMemory.Rss(stack.Server.Id);
            output.WriteLine($"server RSS: {baseline / 1048576} MiB before, {during / 1048576} MiB during {flood.Count} connections, {after / 1048576} MiB after");
            Assert.True(after - baseline < 64L * 1024 * 1024, $"server RSS grew from {baseline / 1048576} to {after / 1048576} MiB");
        }
        finally
        {
            foreach (var (tcp, stream) in flood)
            {
                stream.Dispose();
                tcp.Dispose();
            }

            await stack.DisposeAsync();
        }
    }

    /// <summary>Sends 256 KiB of seeded bytes through the session (no <c>fin</c>: it stays open) and expects them back.</summary>
    private static async Task AssertEchoesAsync(System.Net.WebSockets.WebSocket session, int seed)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var sent = new byte[256 * 1024];
        new Random(seed).NextBytes(sent);
        var sending = session.SendAsync(sent, System.Net.WebSockets.WebSocketMessageType.Binary, endOfMessage: true, timeout.Token);
        var received = new byte[sent.Length];
        for (var at = 0; at < received.Length;)
        {
            var result = await session.ReceiveAsync(received.AsMemory(at), timeout.Token);
            Assert.Equal(System.Net.WebSockets.WebSocketMessageType.Binary, result.MessageType);
            at += result.Count;
        }

        await sending;
        Assert.Equal(sent, received);
    }

    /// <summary>Reads until the server closes the connection (end of stream or a reset); returns what it said first.</summary>
    private static async Task<(bool Closed, string Text)> ReadUntilClosedAsync(Stream stream, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var read = await stream.ReadAsync(buffer, cancellationToken);
                if (read == 0)
                {
                    return (true, text.ToString());
                }

                text.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
        }
        catch (OperationCanceledException)
        {
            return (false, text.ToString());
        }
        catch (IOException)
        {
            return (true, text.ToString());
        }
    }
}
