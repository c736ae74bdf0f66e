using System.Diagnostics;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Porthole.Tunnel.Relay;
using Porthole.Tunnel.Tests.Support;

namespace Porthole.Tunnel.Tests.Relay;

public sealed class StreamTunnelTests
{
    /// <summary>The tunnel under test between <paramref name="local"/>'s right end and <paramref name="webSocket"/>'s server end.</summary>
    private static Task<TunnelResult> RunTunnel(SocketPair local, WebSocketPair webSocket, string localName, Action? afterFirstExchange = null) =>
        StreamTunnel.RunAsync(webSocket.Server, local.RightStream, local.RightStream, () => local.Right.Shutdown(SocketShutdown.Send), localName, afterFirstExchange: afterFirstExchange);

    [Fact]
    public async Task RunAsync_CarriesBytesBothWaysAtOnce_ByteIdentical()
    {
        const int Size = 8 * 1024 * 1024;
        var upload = RandomNumberGenerator.GetBytes(Size);
        var download = RandomNumberGenerator.GetBytes(Size);
        using var session = await TunnelHarness.StartAsync();

        async Task<(byte[] Hash, long Length)> SendAndReceive(Socket socket, NetworkStream stream, byte[] payload)
        {
            var receive = stream.HashToEndAsync();
            await stream.WriteAsync(payload);
            socket.Shutdown(SocketShutdown.Send);
            return await receive;
        }

        var atTarget = SendAndReceive(session.ClientApp, session.ClientAppStream, upload);
        var atClient = SendAndReceive(session.TargetApp, session.TargetAppStream, download);
        var received = await Task.WhenAll(atTarget, atClient).WaitAsync(Timeouts.Test);

        Assert.Equal(Size, received[0].Length);
        Assert.Equal(SHA256.HashData(download), received[0].Hash);
        Assert.Equal(Size, received[1].Length);
        Assert.Equal(SHA256.HashData(upload), received[1].Hash);

        var client = await session.ClientTunnel.WaitAsync(Timeouts.Test);
        var target = await session.TargetTunnel.WaitAsync(Timeouts.Test);
        Assert.True(client.Succeeded, $"client: {client}");
        Assert.True(target.Succeeded, $"target: {target}");
        Assert.Null(client.FailureReason);
        Assert.Equal(Size, client.LocalToRemote.Bytes);
        Assert.Equal(Size, client.RemoteToLocal.Bytes);
        Assert.Equal(Size, target.LocalToRemote.Bytes);
        Assert.Equal(Size, target.RemoteToLocal.Bytes);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, session.WebSocket.Client.CloseStatus);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, session.WebSocket.Server.CloseStatus);
    }

    [Fact]
    public async Task RunAsync_WhenClientHalfCloses_TargetReadsEofAndCanStillAnswer()
    {
        using var session = await TunnelHarness.StartAsync();

        // Like `ssh host cmd < file`: the request ends with a half-close, the answer comes afterwards.
        await session.ClientAppStream.WriteAsync("request"u8.ToArray());
        session.ClientApp.Shutdown(SocketShutdown.Send);

        var request = await session.TargetAppStream.ReadToEndAsync().WaitAsync(Timeouts.Test);
        Assert.Equal("request", Encoding.ASCII.GetString(request));
        Assert.False(session.ClientTunnel.IsCompleted, "the tunnel must stay open for the answer");

        await session.TargetAppStream.WriteAsync("answer after EOF"u8.ToArray());
        await Task.Delay(100);
        await session.TargetAppStream.WriteAsync(" and more"u8.ToArray());
        session.TargetApp.Shutdown(SocketShutdown.Send);

        var answer = await session.ClientAppStream.ReadToEndAsync().WaitAsync(Timeouts.Test);
        Assert.Equal("answer after EOF and more", Encoding.ASCII.GetString(answer));
        Assert.True((await session.ClientTunnel.WaitAsync(Timeouts.Test)).Succeeded);
        Assert.True((await session.TargetTunnel.WaitAsync(Timeouts.Test)).Succeeded);
    }

    [Fact]
    public async Task RunAsync_WhenTargetHalfCloses_ClientReadsEofAndCanStillSend()
    {
        using var session = await TunnelHarness.StartAsync();

        // Like a server banner followed by EOF while the client still uploads.
        await session.TargetAppStream.WriteAsync("banner"u8.ToArray());
        session.TargetApp.Shutdown(SocketShutdown.Send);
        Assert.Equal("banner", Encoding.ASCII.GetString(await session.ClientAppStream.ReadToEndAsync().WaitAsync(Timeouts.Test)));

        await session.ClientAppStream.WriteAsync("upload"u8.ToArray());
        session.ClientApp.Shutdown(SocketShutdown.Send);

        Assert.Equal("upload", Encoding.ASCII.GetString(await session.TargetAppStream.ReadToEndAsync().WaitAsync(Timeouts.Test)));
        Assert.True((await session.ClientTunnel.WaitAsync(Timeouts.Test)).Succeeded);
        Assert.True((await session.TargetTunnel.WaitAsync(Timeouts.Test)).Succeeded);
    }

    [Fact]
    public async Task RunAsync_SignalsTheFirstExchange_OnceBytesHaveCrossedBothWays()
    {
        using var local = await SocketPair.CreateAsync();
        using var webSocket = await WebSocketPair.CreateAsync();
        var exchanges = 0;
        var exchanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tunnel = RunTunnel(local, webSocket, "local", afterFirstExchange: () =>
            {
                Interlocked.Increment(ref exchanges);
                exchanged.TrySetResult();
            });

        // One way only: the session is not known to work end to end yet (a spare connection would compete with its reply).
        await local.LeftStream.WriteAsync("hello"u8.ToArray());
        var (_, request) = await webSocket.Client.ReceiveMessageAsync().WaitAsync(Timeouts.Test);
        Assert.Equal("hello", Encoding.ASCII.GetString(request));
        await Task.Delay(100);
        Assert.Equal(0, Volatile.Read(ref exchanges));

        await webSocket.Client.SendBinaryAsync("world"u8.ToArray());
        var reply = new byte[5];
        await local.LeftStream.ReadExactlyAsync(reply).AsTask().WaitAsync(Timeouts.Test);
        await exchanged.Task.WaitAsync(Timeouts.Test);

        // More traffic and the end of the session do not signal again.
        await local.LeftStream.WriteAsync("again"u8.ToArray());
        await webSocket.Client.ReceiveMessageAsync().WaitAsync(Timeouts.Test);
        await webSocket.Client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        await tunnel.WaitAsync(Timeouts.Test);
        Assert.Equal(1, Volatile.Read(ref exchanges));
    }

    [Fact]
    public async Task RunAsync_SignalsTheFirstExchangeAtTheEnd_WhenBytesNeverCrossedBothWays()
    {
        using var local = await SocketPair.CreateAsync();
        using var webSocket = await WebSocketPair.CreateAsync();
        var exchanges = 0;
        var tunnel = RunTunnel(local, webSocket, "local", afterFirstExchange: () => Interlocked.Increment(ref exchanges));

        await webSocket.Client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "nothing to say", CancellationToken.None);

        await tunnel.WaitAsync(Timeouts.Test);
        Assert.Equal(1, Volatile.Read(ref exchanges));
    }

    [Fact]
    public async Task RunAsync_WhenPeerClosesWithReason_EndsWithThatReason()
    {
        using var local = await SocketPair.CreateAsync();
        using var webSocket = await WebSocketPair.CreateAsync();
        var tunnel = RunTunnel(local, webSocket, "client");
        const string Reason = "target connection failed: connection reset by peer";

        var peer = webSocket.Client;
        await peer.SendBinaryAsync("partial"u8.ToArray());
        await peer.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, Reason, CancellationToken.None);

        var result = await tunnel.WaitAsync(Timeouts.Test);
        Assert.False(result.Succeeded);
        Assert.Equal(PumpEnd.PeerClosed, result.RemoteToLocal.End);
        Assert.Equal(Reason, result.FailureReason);
        Assert.Equal(7, result.RemoteToLocal.Bytes);

        var buffer = new byte[7];
        await local.LeftStream.ReadExactlyAsync(buffer).AsTask().WaitAsync(Timeouts.Test);
        Assert.Equal("partial", Encoding.ASCII.GetString(buffer));

        // The tunnel completes the close handshake instead of dropping the connection.
        var (type, _) = await peer.ReceiveMessageAsync().WaitAsync(Timeouts.Short);
        Assert.Equal(WebSocketMessageType.Close, type);
    }

    [Fact]
    public async Task RunAsync_WhenLocalConnectionResets_ClosesWebSocketWithLocalNameAndReason()
    {
        using var local = await SocketPair.CreateAsync();
        using var webSocket = await WebSocketPair.CreateAsync();
        var tunnel = RunTunnel(local, webSocket, "target");

        // Linger 0 turns close into a TCP RST: the target "crashed".
        local.Left.LingerState = new LingerOption(true, 0);
        local.Left.Close();

        var result = await tunnel.WaitAsync(Timeouts.Test);
        Assert.Equal(PumpEnd.Failed, result.LocalToRemote.End);
        Assert.Equal("connection reset by peer", result.FailureReason);

        // The design promises the peer a readable reason (docs/design/core-tunnel.md, "Data framing").
        var (type, _) = await webSocket.Client.ReceiveMessageAsync().WaitAsync(Timeouts.Short);
        Assert.Equal(WebSocketMessageType.Close, type);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, webSocket.Client.CloseStatus);
        Assert.Equal("target connection failed: connection reset by peer", webSocket.Client.CloseStatusDescription);
    }

    [Fact]
    public async Task RunAsync_WhenCancelled_EndsBothDirectionsPromptly()
    {
        using var cancel = new CancellationTokenSource();
        using var session = await TunnelHarness.StartAsync(clientToken: cancel.Token);

        // Traffic first, so the session is demonstrably alive when it is cancelled.
        await session.ClientAppStream.WriteAsync("ping"u8.ToArray());
        var ping = new byte[4];
        await session.TargetAppStream.ReadExactlyAsync(ping).AsTask().WaitAsync(Timeouts.Test);

        var stopwatch = Stopwatch.StartNew();
        await cancel.CancelAsync();
        var result = await session.ClientTunnel.WaitAsync(Timeouts.Test);
        stopwatch.Stop();

        Assert.Equal(PumpEnd.Canceled, result.LocalToRemote.End);
        Assert.Equal(PumpEnd.Canceled, result.RemoteToLocal.End);
        Assert.False(result.Succeeded);
        // Well under StreamTunnel's 2 s "abandon" grace: both pumps honoured the token themselves.
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1.5), $"took {stopwatch.Elapsed}");

        // The far end notices that the session is gone instead of hanging.
        var target = await session.TargetTunnel.WaitAsync(Timeouts.Test);
        Assert.False(target.Succeeded);
    }

    [Fact]
    public async Task RunAsync_WhenToldToEnd_ClosesWithTheReason_AndEndsOnThePeersAnswer()
    {
        using var local = await SocketPair.CreateAsync();
        using var webSocket = await WebSocketPair.CreateAsync();
        var end = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var tunnel = StreamTunnel.RunAsync(
            webSocket.Server, local.RightStream, local.RightStream, () => local.Right.Shutdown(SocketShutdown.Send), "target", endWhen: end.Task);
        const string Reason = "remote access to device 'gw-01' was disabled on its gateway";

        // Alive both ways first: the local side stays open and silent, as an idle ssh session's would.
        await local.LeftStream.WriteAsync("banner"u8.ToArray());
        var (_, banner) = await webSocket.Client.ReceiveMessageAsync().WaitAsync(Timeouts.Test);
        Assert.Equal("banner", Encoding.ASCII.GetString(banner));

        var stopwatch = Stopwatch.StartNew();
        end.SetResult(Reason);
        var (type, _) = await webSocket.Client.ReceiveMessageAsync().WaitAsync(Timeouts.Test);
        Assert.Equal(WebSocketMessageType.Close, type);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, webSocket.Client.CloseStatus);
        Assert.Equal(Reason, webSocket.Client.CloseStatusDescription);
        Assert.False(tunnel.IsCompleted, "the tunnel waits for the peer's answer before tearing down");

        await webSocket.Client.CloseOutputAsync(WebSocketCloseStatus.PolicyViolation, Reason, CancellationToken.None);
        var result = await tunnel.WaitAsync(Timeouts.Test);
        stopwatch.Stop();

        Assert.False(result.Succeeded);
        Assert.Equal(Reason, result.FailureReason);
        Assert.Equal(6, result.LocalToRemote.Bytes);
        // Ended on the answer, not on the close handshake's timeout or the abandon grace.
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1.5), $"took {stopwatch.Elapsed}");
    }
}
