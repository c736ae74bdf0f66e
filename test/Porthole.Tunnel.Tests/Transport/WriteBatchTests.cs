using System.Net.Security;
using System.Net.WebSockets;
using System.Security.Cryptography;
using Porthole.Tunnel.Relay;
using Porthole.Tunnel.Tests.Support;
using Porthole.Tunnel.Transport;

namespace Porthole.Tunnel.Tests.Transport;

/// <summary>
/// The client's stack as the agent and the CLI build it, on real loopback sockets and real TLS: WebSocket →
/// <see cref="SilentPeerStream"/> → <c>SslStream</c> → <see cref="BatchingStream"/> → socket. What reaches the socket
/// is counted by a thin wrapper around its <see cref="System.Net.Sockets.NetworkStream"/>.
/// </summary>
public sealed class WriteBatchTests
{
    [Fact]
    public async Task LargeFrame_ThatTlsWritesAsSeveralRecords_LeavesInOneSend_AndArrivesIntact()
    {
        await using var stack = await ClientStack.CreateAsync();
        var message = RandomNumberGenerator.GetBytes(DataFrames.DefaultBufferSize);
        await stack.WarmUpAsync();

        stack.Sends.Reset();
        await stack.Client.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);

        Assert.Equal(1, stack.Sends.Count);
        Assert.True(stack.Sends.Bytes > message.Length, "the send carries every TLS record of the frame: the payload and their overhead");
        Assert.Equal(message, await stack.ReceiveMessageAsync(message.Length));
    }

    [Fact]
    public async Task WithoutTheBatch_TheSameFrameTakesSeveralSends()
    {
        // What the batch saves, and proof that the counter sees what TLS does: straight into SslStream, no batch.
        // (.NET 10 writes two 16 KiB records at a time, so a frame of eight records is four sends of 32 KiB and a little.)
        await using var stack = await ClientStack.CreateAsync();
        var frame = RandomNumberGenerator.GetBytes(DataFrames.DefaultBufferSize);
        await stack.WarmUpAsync();

        stack.Sends.Reset();
        await stack.ClientTls.WriteAsync(frame);

        Assert.True(stack.Sends.Count >= 2, $"{stack.Sends.Count} sends: {string.Join(", ", stack.Sends.Sizes)}");
    }

    [Fact]
    public async Task ManyFramesBothWays_SmallAndLarge_ArriveInOrder_WithOneSendEach()
    {
        await using var stack = await ClientStack.CreateAsync();
        var sizes = new[] { 1, 4096, DataFrames.DefaultBufferSize, 17, 16 * 1024, 16 * 1024 + 1, 300_000, 2 };
        var expected = sizes.Select(RandomNumberGenerator.GetBytes).ToArray();

        var echo = Task.Run(async () =>
        {
            // The server end answers each message with itself, so both directions carry data while frames go out.
            var buffer = new byte[512 * 1024];
            foreach (var size in sizes)
            {
                var message = await ReceiveMessageAsync(stack.Server, buffer, size);
                await stack.Server.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
            }
        });

        stack.Sends.Reset();
        var receive = new byte[512 * 1024];
        foreach (var message in expected)
        {
            await stack.Client.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
            Assert.Equal(message, await ReceiveMessageAsync(stack.Client, receive, message.Length));
        }

        await echo.WaitAsync(Timeouts.Test);

        // A frame larger than the WebSocket's send is still one write of the WebSocket, hence one send.
        Assert.Equal(sizes.Length, stack.Sends.Count);
    }

    [Fact]
    public async Task WritesOutsideABatch_GoStraightThrough()
    {
        using var sockets = await SocketPair.CreateAsync();
        var counted = new CountingStream(sockets.LeftStream);
        await using var batching = new BatchingStream(counted);

        await batching.WriteAsync(new byte[] { 1, 2, 3 });
        var received = new byte[3];
        await sockets.RightStream.ReadExactlyAsync(received).AsTask().WaitAsync(Timeouts.Test);

        Assert.Equal(1, counted.Count);
        Assert.Equal(new byte[] { 1, 2, 3 }, received);
    }

    [Fact]
    public async Task ALayerThatWaitsMidFrame_LosesTheBatchButNotTheOrder()
    {
        // The batch is current only while the write runs synchronously. A layer that waits in the middle of a frame
        // writes the rest outside it; the held first half must still leave first.
        using var sockets = await SocketPair.CreateAsync();
        var counted = new CountingStream(sockets.LeftStream);
        await using var batching = new BatchingStream(counted);
        var frame = RandomNumberGenerator.GetBytes(64 * 1024);

        await new WriteBatch().WriteAsync(new WaitsMidWrite(batching), frame, CancellationToken.None);
        var received = new byte[frame.Length];
        await sockets.RightStream.ReadExactlyAsync(received).AsTask().WaitAsync(Timeouts.Test);

        Assert.Equal(frame, received);
        Assert.Equal(2, counted.Count);
        Assert.Null(WriteBatch.Current);
    }

    /// <summary>A layer that writes the first half of what it is given, waits, then writes the second half.</summary>
    private sealed class WaitsMidWrite(Stream inner) : LayeredStream(inner)
    {
        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var half = buffer.Length / 2;
            await Inner.WriteAsync(buffer[..half], cancellationToken);
            await Task.Yield();
            await Inner.WriteAsync(buffer[half..], cancellationToken);
        }
    }

    private static async Task<byte[]> ReceiveMessageAsync(WebSocket socket, byte[] buffer, int length)
    {
        var count = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None).AsTask().WaitAsync(Timeouts.Test);
            count += result.Count;
            if (result.EndOfMessage)
            {
                Assert.Equal(length, count);
                return buffer[..count];
            }
        }
    }

    /// <summary>Counts the writes that reach the socket.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        private int _count;
        private long _bytes;

        public System.Collections.Concurrent.ConcurrentQueue<int> Sizes { get; } = new();

        public int Count => Volatile.Read(ref _count);

        public long Bytes => Interlocked.Read(ref _bytes);

        public void Reset()
        {
            Volatile.Write(ref _count, 0);
            Interlocked.Exchange(ref _bytes, 0);
        }

        public override bool CanRead => true;

        public override bool CanWrite => true;

        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _count);
            Interlocked.Add(ref _bytes, buffer.Length);
            Sizes.Enqueue(buffer.Length);
            return inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override void Flush() => inner.Flush();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>A TLS WebSocket whose client end is stacked as the agent's and the CLI's are.</summary>
    private sealed class ClientStack : IAsyncDisposable
    {
        private readonly SocketPair _sockets;
        private readonly SslStream _serverTls;

        private ClientStack(SocketPair sockets, SslStream serverTls, SslStream clientTls, CountingStream sends)
        {
            _sockets = sockets;
            _serverTls = serverTls;
            ClientTls = clientTls;
            Sends = sends;
            Server = WebSocket.CreateFromStream(serverTls, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
            Client = WebSocket.CreateFromStream(new SilentPeerStream(clientTls, KeepAliveSettings.Default), new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
        }

        public SslStream ClientTls { get; }

        public CountingStream Sends { get; }

        public WebSocket Server { get; }

        public WebSocket Client { get; }

        public static async Task<ClientStack> CreateAsync()
        {
            var sockets = await SocketPair.CreateAsync();
            var sends = new CountingStream(sockets.RightStream);
            var serverTls = new SslStream(sockets.LeftStream, leaveInnerStreamOpen: true);
            var clientTls = new SslStream(new BatchingStream(sends), leaveInnerStreamOpen: false, (_, _, _, _) => true);
            await Task.WhenAll(
                serverTls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = TlsWebSocketPair.Certificate.Value }),
                clientTls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" })).WaitAsync(Timeouts.Test);
            return new ClientStack(sockets, serverTls, clientTls, sends);
        }

        /// <summary>
        /// One small message each way first: the client's last handshake bytes go out with its first write, and a
        /// count should see only the frame under test.
        /// </summary>
        public async Task WarmUpAsync()
        {
            await Client.SendAsync(new byte[] { 1 }, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
            await ReceiveMessageAsync(1);
        }

        public Task<byte[]> ReceiveMessageAsync(int length) => WriteBatchTests.ReceiveMessageAsync(Server, new byte[length + 1], length);

        public async ValueTask DisposeAsync()
        {
            Server.Dispose();
            Client.Dispose();
            await _serverTls.DisposeAsync();
            await ClientTls.DisposeAsync();
            _sockets.Dispose();
        }
    }
}
