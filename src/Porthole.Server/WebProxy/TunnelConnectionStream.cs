using System.Net.WebSockets;
using Porthole.Server.Relay;
using Porthole.Tunnel.Relay;

namespace Porthole.Server.WebProxy;

/// <summary>
/// One pooled connection of a web session: a tunnel session whose client leg is the server itself. Reads and writes
/// go straight to the agent's data WebSocket; disposing closes it (the agent then closes its TCP connection to the
/// device) and removes the session from the broker.
/// </summary>
public sealed class TunnelConnectionStream : Stream
{
    private readonly PendingSession _session;
    private readonly ISessionBroker _broker;
    private readonly WebSocket _agent;
    private readonly DataWebSocketStream _data;
    private int _disposed;

    private TunnelConnectionStream(PendingSession session, ISessionBroker broker, WebSocket agent)
    {
        (_session, _broker, _agent) = (session, broker, agent);
        _data = new DataWebSocketStream(agent);
    }

    /// <summary>Takes the client leg of an opened session (claimed by the server, so no client can join it).</summary>
    public static TunnelConnectionStream Attach(PendingSession session, ISessionBroker broker)
    {
        if (!session.TryClaimClient(session.ClientKey, session.Target.UserId))
        {
            throw new InvalidOperationException("the session was already joined");
        }

        return new TunnelConnectionStream(session, broker, session.AgentOutcome.Result.WebSocket!);
    }

    public string SessionId => _session.Id;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _data.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _data.ReadAsync(buffer, offset, count, cancellationToken);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        buffer.IsEmpty ? ValueTask.CompletedTask : _data.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("use ReadAsync");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("use WriteAsync");

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await CloseAsync().ConfigureAwait(false);
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Sends the close frame first: the agent leg's request ends (and drops the socket) once the session leaves the broker.</summary>
    private async Task CloseAsync()
    {
        await WebSocketClosing.CloseOutputAsync(_agent, WebSocketCloseStatus.NormalClosure, "web connection closed").ConfigureAwait(false);
        _broker.Remove(_session);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            // Synchronous disposal (the HTTP handler's pool) must not block on the network: close in the background.
            _ = CloseAsync();
        }

        base.Dispose(disposing);
    }
}
