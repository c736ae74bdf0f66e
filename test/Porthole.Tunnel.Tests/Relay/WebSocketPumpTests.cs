using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Porthole.Tunnel.Relay;
using Porthole.Tunnel.Tests.Support;

namespace Porthole.Tunnel.Tests.Relay;

public sealed class WebSocketPumpTests
{
    [Fact]
    public async Task WebSocketToStream_WithFragmentedAndOversizedMessages_WritesAllBytesInOrder()
    {
        using var pair = await WebSocketPair.CreateAsync();
        using var destination = new MemoryStream();
        var completed = 0;
        var pump = WebSocketPump.WebSocketToStreamAsync(pair.Server, destination, () => completed++, bufferSize: 4096, CancellationToken.None);
        var expected = new MemoryStream();

        // One message in fragments of awkward sizes, some larger than the pump's buffer, one empty.
        int[] fragments = [1, 1000, 0, 70_000, 3, 200_000, 4096];
        for (var i = 0; i < fragments.Length; i++)
        {
            var bytes = RandomNumberGenerator.GetBytes(fragments[i]);
            expected.Write(bytes);
            await pair.Client.SendBinaryAsync(bytes, endOfMessage: i == fragments.Length - 1).WaitAsync(Timeouts.Test);
        }

        // Then a second, whole message.
        var tail = RandomNumberGenerator.GetBytes(10_000);
        expected.Write(tail);
        await pair.Client.SendBinaryAsync(tail);
        await pair.Client.SendAsync(DataFrames.Fin, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

        var result = await pump.WaitAsync(Timeouts.Test);
        Assert.Equal(PumpEnd.Completed, result.End);
        Assert.Equal(expected.Length, result.Bytes);
        Assert.Equal(1, completed);
        Assert.Equal(expected.ToArray(), destination.ToArray());
    }

    [Fact]
    public async Task WebSocketToStream_WhenTextFrameIsNotFin_ReportsFailedInsteadOfThrowing()
    {
        using var pair = await WebSocketPair.CreateAsync();
        using var destination = new MemoryStream();
        var completed = false;
        var pump = WebSocketPump.WebSocketToStreamAsync(pair.Server, destination, () => completed = true, DataFrames.DefaultBufferSize, CancellationToken.None);

        await pair.Client.SendBinaryAsync("data"u8.ToArray());
        await pair.Client.SendTextAsync("hello");

        var result = await pump.WaitAsync(Timeouts.Test);
        Assert.Equal(PumpEnd.Failed, result.End);
        Assert.Equal(4, result.Bytes);
        Assert.Equal("unexpected control frame on data channel", result.Reason);
        Assert.False(completed, "a protocol violation is not a half-close");
    }

    [Fact]
    public async Task WebSocketToStream_WhenFinArrivesFragmented_ReportsFailed()
    {
        using var pair = await WebSocketPair.CreateAsync();
        var completed = false;
        var pump = WebSocketPump.WebSocketToStreamAsync(pair.Server, Stream.Null, () => completed = true, DataFrames.DefaultBufferSize, CancellationToken.None);

        await pair.Client.SendAsync("fi"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: false, CancellationToken.None);
        await pair.Client.SendAsync("n"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

        var result = await pump.WaitAsync(Timeouts.Test);
        Assert.Equal(PumpEnd.Failed, result.End);
        Assert.False(completed);
    }

    [Fact]
    public async Task WebSocketToStream_WhenPeerCloses_ReportsPeerClosedWithDescription()
    {
        using var pair = await WebSocketPair.CreateAsync();
        var pump = WebSocketPump.WebSocketToStreamAsync(pair.Server, Stream.Null, () => { }, DataFrames.DefaultBufferSize, CancellationToken.None);

        await pair.Client.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, "target connection failed: timeout", CancellationToken.None);

        var result = await pump.WaitAsync(Timeouts.Test);
        Assert.Equal(PumpEnd.PeerClosed, result.End);
        Assert.Equal("target connection failed: timeout", result.Reason);
    }

    [Fact]
    public async Task WebSocketToStream_WhenPeerVanishes_ReportsFailed()
    {
        using var pair = await WebSocketPair.CreateAsync();
        var pump = WebSocketPump.WebSocketToStreamAsync(pair.Server, Stream.Null, () => { }, DataFrames.DefaultBufferSize, CancellationToken.None);

        pair.AbortClient();

        var result = await pump.WaitAsync(Timeouts.Test);
        Assert.Equal(PumpEnd.Failed, result.End);
        Assert.False(string.IsNullOrEmpty(result.Reason));
    }

    [Fact]
    public async Task StreamToWebSocket_SendsBinaryMessagesThenFin()
    {
        using var pair = await WebSocketPair.CreateAsync();
        var payload = RandomNumberGenerator.GetBytes(300_000);
        using var source = new MemoryStream(payload);

        var pump = WebSocketPump.StreamToWebSocketAsync(source, pair.Server, bufferSize: 65536, CancellationToken.None);
        using var received = new MemoryStream();
        while (true)
        {
            var (type, bytes) = await pair.Client.ReceiveMessageAsync().WaitAsync(Timeouts.Test);
            if (type == WebSocketMessageType.Text)
            {
                Assert.True(DataFrames.IsFin(bytes), $"unexpected text '{Encoding.UTF8.GetString(bytes)}'");
                break;
            }

            Assert.Equal(WebSocketMessageType.Binary, type);
            Assert.InRange(bytes.Length, 1, 65536);
            received.Write(bytes);
        }

        var result = await pump.WaitAsync(Timeouts.Test);
        Assert.Equal(new PumpResult(PumpEnd.Completed, payload.Length), result);
        Assert.Equal(payload, received.ToArray());
    }

    [Fact]
    public async Task WebSocketToStream_WhenDestinationIsNotRead_StopsReadingAndBoundsBytesInFlight()
    {
        const int MessageSize = 64 * 1024;
        const long Total = 64L * 1024 * 1024;
        // Fixed socket buffers switch off auto-tuning, so the kernel can hold only a few hundred KiB per connection.
        using var pair = await WebSocketPair.CreateAsync(socketBufferSize: 128 * 1024);
        using var destination = await SocketPair.CreateAsync(bufferSize: 128 * 1024);
        var pump = WebSocketPump.WebSocketToStreamAsync(pair.Server, destination.LeftStream, () => destination.Left.Shutdown(SocketShutdown.Send), DataFrames.DefaultBufferSize, CancellationToken.None);

        long sent = 0;
        using var expected = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var sender = Task.Run(async () =>
        {
            var random = new Random(42);
            var chunk = new byte[MessageSize];
            while (Interlocked.Read(ref sent) < Total)
            {
                random.NextBytes(chunk);
                expected.AppendData(chunk);
                await pair.Client.SendBinaryAsync(chunk);
                Interlocked.Add(ref sent, MessageSize);
            }

            await pair.Client.SendAsync(DataFrames.Fin, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        });

        // Nobody reads the destination: the sender must stall, not fill memory.
        await Task.Delay(TimeSpan.FromSeconds(2));
        var stalledAt = Interlocked.Read(ref sent);
        Assert.False(sender.IsCompleted, $"the sender finished ({sender.Status}) although nobody read the destination");
        Assert.False(pump.IsCompleted);
        Assert.True(stalledAt < 16L * 1024 * 1024, $"{stalledAt} bytes were accepted with a stalled reader");

        // Unblock: everything arrives, in order, and both sides finish.
        var (hash, length) = await destination.RightStream.HashToEndAsync().WaitAsync(Timeouts.Test);
        await sender.WaitAsync(Timeouts.Test);
        var result = await pump.WaitAsync(Timeouts.Test);
        Assert.Equal(new PumpResult(PumpEnd.Completed, Total), result);
        Assert.Equal(Total, length);
        Assert.Equal(expected.GetHashAndReset(), hash);
    }

    [Fact]
    public async Task StreamToWebSocket_WhenPeerDoesNotRead_StopsReadingTheSource()
    {
        using var pair = await WebSocketPair.CreateAsync(socketBufferSize: 128 * 1024);
        var source = new EndlessStream();
        using var cancel = new CancellationTokenSource();

        var pump = WebSocketPump.StreamToWebSocketAsync(source, pair.Server, DataFrames.DefaultBufferSize, cancel.Token);
        await Task.Delay(TimeSpan.FromSeconds(2));

        Assert.False(pump.IsCompleted);
        Assert.True(source.BytesRead < 16L * 1024 * 1024, $"{source.BytesRead} bytes were read from the source with a stalled peer");

        await cancel.CancelAsync();
        var result = await pump.WaitAsync(Timeouts.Test);
        Assert.Equal(PumpEnd.Canceled, result.End);
    }
}
