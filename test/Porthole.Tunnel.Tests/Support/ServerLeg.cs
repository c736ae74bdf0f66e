using System.IO.Pipelines;
using Porthole.Tunnel.Frames;
using Porthole.Tunnel.Transport;

namespace Porthole.Tunnel.Tests.Support;

/// <summary>
/// The server end of a test connection as the frame relay holds it: pipes over the connection's stream, the way
/// Kestrel's TLS layer presents a connection (a <see cref="PipeReader"/> and a <see cref="PipeWriter"/> over the
/// <c>SslStream</c>).
/// </summary>
internal static class ServerLeg
{
    public static FrameLeg Over(Stream stream, string name, KeepAliveSettings? keepAlive = null, TimeProvider? time = null) =>
        new(new StreamPipes(stream), name, keepAlive ?? KeepAliveSettings.Default, time);

    private sealed class StreamPipes(Stream stream) : IDuplexPipe
    {
        public PipeReader Input { get; } = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));

        public PipeWriter Output { get; } = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
    }
}

/// <summary>Which of the server's two relays a test runs.</summary>
public enum RelayKind
{
    /// <summary><see cref="Relay.WebSocketRelay"/>: WebSocket objects on both legs.</summary>
    WebSocketObjects,

    /// <summary><see cref="FrameRelay"/>: frame by frame on the connections' pipes.</summary>
    Frames,
}
