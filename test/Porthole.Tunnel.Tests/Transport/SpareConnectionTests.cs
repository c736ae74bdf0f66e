using System.Net;
using System.Net.Sockets;
using System.Text;
using Porthole.Tunnel.Tests.Support;
using Porthole.Tunnel.Transport;

namespace Porthole.Tunnel.Tests.Transport;

public sealed class SpareConnectionTests
{
    [Fact]
    public async Task Refill_LeavesAConnectionThatTheNextRequestUses()
    {
        await using var server = await CountingHttpServer.StartAsync(closeAfterEachAnswer: false);
        using var invoker = new HttpMessageInvoker(new ServerTrust().CreateHandler());
        var spare = new SpareConnection(invoker, server.BaseAddress);

        await spare.RefillAsync().WaitAsync(Timeouts.Test);
        Assert.Equal(1, server.Connections);

        using var response = await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(server.BaseAddress, "/next")), CancellationToken.None).WaitAsync(Timeouts.Test);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, server.Connections);
        Assert.Equal(["/healthz", "/next"], server.Paths);
    }

    [Fact]
    public async Task Refill_WhenTheServerClosedTheSpare_TheNextRequestDialsAgain()
    {
        // The server's keep-alive timeout closing an idle spare must cost nothing but the handshake it would have cost.
        await using var server = await CountingHttpServer.StartAsync(closeAfterEachAnswer: true);
        using var invoker = new HttpMessageInvoker(new ServerTrust().CreateHandler());
        var spare = new SpareConnection(invoker, server.BaseAddress);
        await spare.RefillAsync().WaitAsync(Timeouts.Test);
        await server.WaitForClosedAsync(1).WaitAsync(Timeouts.Test);

        using var response = await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(server.BaseAddress, "/next")), CancellationToken.None).WaitAsync(Timeouts.Test);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, server.Connections);
    }

    [Fact]
    public async Task Refill_WhenTheServerIsUnreachable_CompletesQuietly()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var invoker = new HttpMessageInvoker(new ServerTrust().CreateHandler());

        await new SpareConnection(invoker, new Uri($"http://127.0.0.1:{port}/")).RefillAsync().WaitAsync(Timeouts.Test);
    }

    /// <summary>An HTTP/1.1 server on loopback that answers every request with 200 and counts the connections it accepted.</summary>
    private sealed class CountingHttpServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly List<string> _paths = [];
        private readonly bool _closeAfterEachAnswer;
        private Task _accepting = Task.CompletedTask;
        private int _connections;
        private int _closed;

        private CountingHttpServer(bool closeAfterEachAnswer) => _closeAfterEachAnswer = closeAfterEachAnswer;

        public Uri BaseAddress => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

        public int Connections => Volatile.Read(ref _connections);

        public IReadOnlyList<string> Paths
        {
            get
            {
                lock (_paths)
                {
                    return [.. _paths];
                }
            }
        }

        public static Task<CountingHttpServer> StartAsync(bool closeAfterEachAnswer)
        {
            var server = new CountingHttpServer(closeAfterEachAnswer);
            server._listener.Start();
            server._accepting = server.AcceptAsync();
            return Task.FromResult(server);
        }

        public async Task WaitForClosedAsync(int count)
        {
            while (Volatile.Read(ref _closed) < count)
            {
                await Task.Delay(10);
            }
        }

        private async Task AcceptAsync()
        {
            var connections = new List<Task>();
            try
            {
                while (true)
                {
                    var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    Interlocked.Increment(ref _connections);
                    connections.Add(ServeAsync(client));
                }
            }
            catch (OperationCanceledException)
            {
                await Task.WhenAll(connections);
            }
        }

        private async Task ServeAsync(TcpClient client)
        {
            using (client)
            {
                var stream = client.GetStream();
                using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
                try
                {
                    while (await reader.ReadLineAsync(_stop.Token) is { Length: > 0 } requestLine)
                    {
                        while (await reader.ReadLineAsync(_stop.Token) is { Length: > 0 })
                        {
                            // Headers; requests here have no body.
                        }

                        lock (_paths)
                        {
                            _paths.Add(requestLine.Split(' ')[1]);
                        }

                        await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"u8.ToArray(), _stop.Token);
                        if (_closeAfterEachAnswer)
                        {
                            break;
                        }
                    }
                }
                catch (Exception ex) when (ex is OperationCanceledException or IOException)
                {
                    // Stopping, or the client went away.
                }
            }

            Interlocked.Increment(ref _closed);
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _accepting;
            _stop.Dispose();
        }
    }
}
