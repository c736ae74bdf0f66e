using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Porthole.Protocol.Control;
using Porthole.Server.Hosting;
using Porthole.Server.Http;
using Porthole.Tests.Common;
using Porthole.Tunnel.Relay;
using Porthole.Tunnel.Transport;

namespace Porthole.Server.Tests.Http;

/// <summary>
/// Real Kestrel on loopback over real TLS, set up as the server sets it up (<see cref="BatchingTransport"/> in the
/// endpoint defaults, <c>https://</c> URL, the WebSocket under a <see cref="SilentPeerStream"/>), with a counter
/// beneath everything that sees each flush Kestrel asks of the socket's pipe. The client is the agent's and CLI's
/// own connector, so its batching is on the other end of the same connection.
/// </summary>
public sealed class BatchingTransportTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new("porthole-batching");
    private readonly FlushCounter _flushes = new();
    private WebApplication? _app;
    private Uri? _address;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        var certificate = SelfSignedCertificate.LoadOrCreate(Path.Combine(_directory.Path, "server.pfx"));
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.UseUrls("https://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ConfigureEndpointDefaults(listen =>
            {
                listen.Use(next => context =>
                {
                    context.Transport = _flushes.Wrap(context.Transport);
                    return next(context);
                });
                BatchingTransport.Use(listen);
            });
            kestrel.ConfigureHttpsDefaults(https => https.ServerCertificate = certificate);
        });

        builder.Services.AddSingleton<IMemoryPoolFactory<byte>>(new LargeBlockMemoryPoolFactory(LargeBlockMemoryPoolFactory.DefaultBlockSize));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddOptions<PortholeServerOptions>();
        _app = builder.Build();

        // "/watched" is the server's own stack (SilentPeerMiddleware puts each WebSocket on a SilentPeerStream, which
        // writes in batches); "/bare" takes the upgraded stream as it comes, with no batch.
        _app.UseWhen(context => context.Request.Path == "/watched", watched => watched.UseMiddleware<SilentPeerMiddleware>());
        _app.UseWebSockets();
        _app.Map("/{mode}", async (HttpContext context) =>
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { SubProtocol = ControlProtocol.DataSubProtocol, KeepAliveInterval = TimeSpan.Zero });
            await EchoLargeFramesAsync(socket);
        });
        await _app.StartAsync();
        _address = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
    }

    [Fact]
    public async Task LargeFrameOverTls_LeavesTheServerWithOneFlush()
    {
        var flushes = await EchoOneLargeFrameAsync("watched");

        Assert.Equal(1, flushes);
    }

    [Fact]
    public async Task WithoutABatch_KestrelsTlsFlushesEveryRecord()
    {
        // The counter sees what Kestrel's TLS layer does on its own: several flushes for one frame of eight records
        // (with Kestrel's default 4 KiB blocks a 64 KiB frame took 17).
        var flushes = await EchoOneLargeFrameAsync("bare");

        Assert.True(flushes >= 4, $"{flushes} flushes");
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        _directory.Dispose();
    }

    /// <summary>Sends one large frame, has the server echo it, and returns how many flushes the echo took.</summary>
    private async Task<int> EchoOneLargeFrameAsync(string mode)
    {
        using var invoker = new HttpMessageInvoker(new ServerTrust(Insecure: true).CreateHandler());
        var connector = new DataWebSocketConnector(invoker);
        using var client = await connector.ConnectAsync(DataWebSocketConnector.ToWebSocketUri(_address!, "/" + mode), "token", ControlProtocol.DataSubProtocol, null, CancellationToken.None);
        var frame = RandomNumberGenerator.GetBytes(DataFrames.DefaultBufferSize);

        await client.SendAsync(frame, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
        var echoed = new byte[frame.Length + 1];
        var count = 0;
        while (true)
        {
            var result = await client.ReceiveAsync(echoed.AsMemory(count), CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(20));
            count += result.Count;
            if (result.EndOfMessage)
            {
                break;
            }
        }

        Assert.Equal(frame, echoed[..count]);
        return await _flushes.Echo.WaitAsync(TimeSpan.FromSeconds(20));
    }

    private async Task EchoLargeFramesAsync(WebSocket socket)
    {
        var buffer = new byte[DataFrames.DefaultBufferSize + 1];
        var count = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return;
            }

            count += result.Count;
            if (result.EndOfMessage)
            {
                _flushes.StartCounting();
                await socket.SendAsync(buffer.AsMemory(0, count), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
                _flushes.StopCounting();
                count = 0;
            }
        }
    }

    /// <summary>Counts the flushes that reach the socket's pipe while the server sends its echo.</summary>
    private sealed class FlushCounter
    {
        private volatile bool _counting;
        private int _flushes;

        private readonly TaskCompletionSource<int> _echo = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The flushes of the (one) echo, once its send has returned on the server.</summary>
        public Task<int> Echo => _echo.Task;

        public IDuplexPipe Wrap(IDuplexPipe transport) => new CountedPipe(transport, this);

        public void StartCounting()
        {
            Interlocked.Exchange(ref _flushes, 0);
            _counting = true;
        }

        public void StopCounting()
        {
            _counting = false;
            _echo.TrySetResult(Volatile.Read(ref _flushes));
        }

        private void Flushed()
        {
            if (_counting)
            {
                Interlocked.Increment(ref _flushes);
            }
        }

        private sealed class CountedPipe(IDuplexPipe inner, FlushCounter counter) : IDuplexPipe
        {
            public PipeReader Input => inner.Input;

            public PipeWriter Output { get; } = new CountedWriter(inner.Output, counter);
        }

        private sealed class CountedWriter(PipeWriter inner, FlushCounter counter) : PipeWriter
        {
            public override void Advance(int bytes) => inner.Advance(bytes);

            public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

            public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

            public override void CancelPendingFlush() => inner.CancelPendingFlush();

            public override void Complete(Exception? exception = null) => inner.Complete(exception);

            public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
            {
                counter.Flushed();
                return inner.FlushAsync(cancellationToken);
            }
        }
    }
}
