using System.IO.Pipelines;
using System.Net.WebSockets;
using Porthole.Server.Relay;
using Porthole.Tunnel.Frames;
using Porthole.Tunnel.Transport;

namespace Porthole.Server.Tests.Relay;

/// <summary>A leg the server accepted: the frame relay's pipes, or a WebSocket made over the same connection, never both.</summary>
public sealed class DataLegTests
{
    [Fact]
    public async Task Dispose_OfALegTheFrameRelayKept_DisposesTheUpgradedStream()
    {
        var upgraded = new DisposalRecordingStream();
        var leg = DataLeg.OverPipes(NewFrameLeg(), upgraded, new WebSocketCreationOptions { IsServer = true });

        await leg.DisposeAsync();

        // The upgraded stream is registered with the silent-peer watch; left undisposed it would stay there for good.
        Assert.True(upgraded.Disposed);
    }

    [Fact]
    public async Task WebSocket_IsMadeOnFirstUse_AfterWhichTheFrameRelayCannotTakeTheLeg()
    {
        var upgraded = new DisposalRecordingStream();
        var leg = DataLeg.OverPipes(NewFrameLeg(), upgraded, new WebSocketCreationOptions { IsServer = true });
        Assert.NotNull(leg.Frames);

        var webSocket = await leg.GetWebSocketAsync();

        Assert.Same(webSocket, await leg.GetWebSocketAsync());
        Assert.Equal(WebSocketState.Open, webSocket.State);
        Assert.Null(leg.Frames);
        await leg.DisposeAsync();
        Assert.True(upgraded.Disposed);
    }

    private static FrameLeg NewFrameLeg()
    {
        var pipe = new Pipe();
        return new FrameLeg(new DuplexPipe(pipe.Reader, pipe.Writer), "agent", KeepAliveSettings.Default);
    }

    private sealed record DuplexPipe(PipeReader Input, PipeWriter Output) : IDuplexPipe;

    private sealed class DisposalRecordingStream : MemoryStream
    {
        public bool Disposed { get; private set; }

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }
}
