using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Porthole.Server.Transport;

namespace Porthole.Server.Tests.Transport;

/// <summary>The transport's socket stream on a real loopback TCP connection.</summary>
public sealed class RawSocketStreamTests : IDisposable
{
    private static readonly Reactor SharedReactor = new();

    private readonly Socket _ours;
    private readonly Socket _peer;
    private readonly Reactor.Registration _readiness;
    private readonly RawSocketStream _stream;

    public RawSocketStreamTests()
    {
        (_ours, _peer) = LoopbackPair.Connect();
        _readiness = SharedReactor.Register((int)_ours.Handle);
        _stream = new RawSocketStream((int)_ours.Handle, _readiness);
    }

    [Fact]
    public async Task Writes_TheSocketCannotTakeYet_AreQueued_AndArriveInOrderOnceThePeerReads()
    {
        // 16 MiB is far more than loopback's socket buffers hold: most of it is queued and drained on the reactor's word.
        var data = RandomNumberGenerator.GetBytes(16 << 20);
        for (var offset = 0; offset < data.Length; offset += 100_000)
        {
            _stream.Write(data.AsSpan(offset, Math.Min(100_000, data.Length - offset)));
        }

        var flushed = _stream.FlushAsync();
        Assert.False(flushed.IsCompleted);

        var received = await ReceiveAsync(_peer, data.Length);
        await flushed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(received));
    }

    [Fact]
    public async Task ABatch_LeavesWhenItEnds()
    {
        _stream.BeginBatch();
        _stream.Write("one "u8);
        _stream.Write("two"u8);
        _peer.ReceiveTimeout = 200;
        Assert.Throws<SocketException>(() => _peer.Receive(new byte[16]));

        await _stream.EndBatchAsync();
        Assert.Equal("one two"u8.ToArray(), await ReceiveAsync(_peer, 7));
    }

    [Fact]
    public async Task AnAsyncRead_WaitsOnTheReactor_ForBytesThatComeLater()
    {
        var buffer = new byte[64];
        var read = _stream.ReadAsync(buffer).AsTask();
        await Task.Delay(100);
        Assert.False(read.IsCompleted);

        _peer.Send("later"u8);
        Assert.Equal(5, await read.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("later"u8.ToArray(), buffer[..5]);
    }

    [Fact]
    public async Task Reads_SeeTheEndOfTheStream_SyncAndAsync()
    {
        _peer.Send("last"u8);
        _peer.Shutdown(SocketShutdown.Send);

        var buffer = new byte[64];
        Assert.Equal(4, _stream.Read(buffer));
        Assert.Equal(0, _stream.Read(buffer));
        Assert.Equal(0, await _stream.ReadAsync(buffer));
    }

    [Fact]
    public async Task DirectReads_WaitWithoutTakingData_ThenReceiveIntoTheCallersBuffer()
    {
        _stream.ReadsDirect = true;
        var waiting = _stream.ReadAsync(Memory<byte>.Empty).AsTask();
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);

        var data = RandomNumberGenerator.GetBytes(200_000);
        _peer.Send(data);
        Assert.Equal(0, await waiting.WaitAsync(TimeSpan.FromSeconds(10)));

        // The zero-byte read took nothing: all of it is still in the socket, and nothing is buffered on our side.
        Assert.False(_stream.HasBufferedInput);
        var received = new byte[data.Length];
        var total = 0;
        while (total < data.Length)
        {
            var read = total % 2 == 0 ? _stream.Read(received.AsSpan(total)) : await _stream.ReadAsync(received.AsMemory(total));
            Assert.NotEqual(0, read);
            Assert.False(_stream.HasBufferedInput);
            total += read;
        }

        Assert.Equal(data, received);
    }

    [Fact]
    public void AZeroByteRead_TakesWhatIsThereIntoTheReadAhead()
    {
        // The SslStream's zero-byte read before each record: one receive, not a poll and then a receive.
        _peer.Send("record"u8);
        Assert.True(SpinWait.SpinUntil(() => _ours.Available == 6, TimeSpan.FromSeconds(10)));

        Assert.Equal(0, _stream.Read(Span<byte>.Empty));
        Assert.True(_stream.HasBufferedInput);
        Assert.Equal(0, _ours.Available);

        var buffer = new byte[16];
        Assert.Equal(6, _stream.Read(buffer));
        Assert.Equal("record"u8.ToArray(), buffer[..6]);
    }

    [Fact]
    public void AfterDetach_NoWriteReachesTheDescriptor()
    {
        _stream.Detach();

        Assert.Throws<IOException>(() => _stream.Write("late"u8));
        _peer.ReceiveTimeout = 200;
        Assert.Throws<SocketException>(() => _peer.Receive(new byte[16]));
    }

    private static async Task<byte[]> ReceiveAsync(Socket socket, int length)
    {
        var received = new byte[length];
        for (var offset = 0; offset < length;)
        {
            var now = await socket.ReceiveAsync(received.AsMemory(offset), SocketFlags.None);
            Assert.NotEqual(0, now);
            offset += now;
        }

        return received;
    }

    public void Dispose()
    {
        _readiness.Dispose();
        _stream.Dispose();
        _ours.Dispose();
        _peer.Dispose();
    }
}
