using System.Net.Security;
using System.Security.Cryptography;
using Porthole.Tunnel.Transport;
using Porthole.Tunnel.Tests.Support;

namespace Porthole.Tunnel.Tests.Transport;

/// <summary>
/// The read side under the clients' TLS: a stream of records arrives in few large receives, every byte in order, and
/// nothing is read ahead unless data is known to be waiting.
/// </summary>
public sealed class ReadAheadStreamTests
{
    [Fact]
    public async Task Tls_OverReadAhead_ReceivesEveryByteInOrder_InFarFewerReceivesThanRecords()
    {
        using var sockets = await SocketPair.CreateAsync();
        var counted = new CountingStream(sockets.RightStream);
        await using var serverTls = new SslStream(sockets.LeftStream, leaveInnerStreamOpen: true);
        await using var clientTls = new SslStream(new ReadAheadStream(counted), leaveInnerStreamOpen: true, (_, _, _, _) => true);
        await Task.WhenAll(
            serverTls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = TlsWebSocketPair.Certificate.Value }),
            clientTls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" })).WaitAsync(Timeouts.Test);
        var data = RandomNumberGenerator.GetBytes(8 * 1024 * 1024);
        var receivesBefore = counted.Reads;

        var send = Task.Run(async () =>
        {
            var random = new Random(7);
            for (var offset = 0; offset < data.Length;)
            {
                var count = Math.Min(data.Length - offset, random.Next(1, 300 * 1024));
                await serverTls.WriteAsync(data.AsMemory(offset, count));
                offset += count;
            }
        });
        var received = new byte[data.Length];
        await clientTls.ReadExactlyAsync(received).AsTask().WaitAsync(Timeouts.Test);
        await send;

        Assert.Equal(SHA256.HashData(data), SHA256.HashData(received));

        // 8 MiB is 512 records of 16 KiB; SslStream alone asks for each twice (a zero-byte read, then the record).
        var receives = counted.Reads - receivesBefore;
        Assert.True(receives < 512, $"{receives} receives for 512 records");
    }

    [Fact]
    public async Task Read_WithoutAZeroByteReadFirst_GoesStraightIntoTheCallersBuffer()
    {
        var counted = new CountingStream(new MemoryStream(new byte[100_000]));
        var stream = new ReadAheadStream(counted);

        var read = await stream.ReadAsync(new byte[1000]);

        Assert.Equal(1000, read);
        Assert.Equal([1000], counted.RequestedLengths);
        Assert.Equal(0, stream.Buffered);
    }

    [Fact]
    public async Task Read_AfterAZeroByteRead_ReadsAhead_AndServesTheRestFromTheBuffer_UntilDrained()
    {
        var data = RandomNumberGenerator.GetBytes(100_000);
        var counted = new CountingStream(new MemoryStream(data));
        var stream = new ReadAheadStream(counted);

        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty));
        var first = new byte[16_406];
        Assert.Equal(first.Length, await stream.ReadAsync(first));
        var rest = new byte[data.Length - first.Length];
        await stream.ReadExactlyAsync(rest);

        Assert.Equal(data, first.Concat(rest));
        Assert.Equal([0, ReadAheadStream.ReadAheadSize], counted.RequestedLengths);
        Assert.Equal(0, stream.Buffered);
        Assert.Equal(0, await stream.ReadAsync(new byte[10]));
    }

    /// <summary>Counts the reads that reach the stream beneath, and the sizes asked for.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public int Reads { get; private set; }

        public List<int> RequestedLengths { get; } = [];

        public override bool CanRead => true;

        public override bool CanWrite => true;

        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Reads++;
            RequestedLengths.Add(buffer.Length);
            return inner.ReadAsync(buffer, cancellationToken);
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
