using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using Porthole.Tunnel.Relay;

namespace Porthole.Tunnel.Streams;

/// <summary>
/// Many sessions on one WebSocket: the agent's streams connection (docs/design/agent-streams.md). Each session is a
/// <see cref="MuxStream"/>, a WebSocket of its own to whoever carries the session, so the relays, pumps and the server's
/// own handshakes work on it unchanged. Per-stream credit keeps a stalled session from stalling the others; losing the
/// connection ends every stream on it with 1001 and "<c>{peer} disconnected</c>".
/// </summary>
public sealed class StreamMux : IAsyncDisposable
{
    private readonly IStreamTransport _transport;
    private readonly string _peer;
    private readonly ConcurrentDictionary<uint, MuxStream> _streams = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _reserveGate = new();
    private uint _lastId;
    private string? _endReason;
    private bool _retired;
    private long _idleSince = Environment.TickCount64;

    /// <summary>Over a <see cref="WebSocket"/> object: the server's side when the frame relay is off.</summary>
    /// <param name="connection">The shared connection; the caller owns it and disposes it after <see cref="RunAsync"/>.</param>
    /// <param name="peer">Who is at the other end ("agent", "server"), for the reason a lost connection gives its streams.</param>
    /// <param name="windowBudget">What widening windows may take; <see cref="StreamWindowBudget.Shared"/> when not given.</param>
    public StreamMux(WebSocket connection, string peer, StreamWindowBudget? windowBudget = null)
        : this(new WebSocketStreamTransport(connection), peer, windowBudget)
    {
    }

    /// <summary>
    /// The agent's side over the upgraded connection itself (<see cref="ClientFrameTransport"/>): frames are read and
    /// written as a WebSocket client's with no WebSocket object in between, and the server is pinged every
    /// <paramref name="pingInterval"/> in which nothing else went out. The caller owns the connection.
    /// </summary>
    public StreamMux(Stream connection, TimeSpan pingInterval, string peer, StreamWindowBudget? windowBudget = null)
        : this(new ClientFrameTransport(connection, pingInterval), peer, windowBudget)
    {
    }

    /// <summary>
    /// The server's side over the connection's own pipes (<see cref="Frames.FrameLeg"/>): frames are read and written
    /// there with no WebSocket object in between, and a session relayed by <see cref="StreamRelay"/> crosses the server
    /// in one pass over its bytes each way. The caller owns the leg.
    /// </summary>
    public StreamMux(Frames.FrameLeg connection, string peer, StreamWindowBudget? windowBudget = null)
        : this(new FrameLegStreamTransport(connection), peer, windowBudget)
    {
    }

    private StreamMux(IStreamTransport transport, string peer, StreamWindowBudget? windowBudget)
    {
        (_transport, _peer, WindowBudget) = (transport, peer, windowBudget ?? StreamWindowBudget.Shared);
    }

    /// <summary>What the streams' windows may take beyond the protocol's starting window (<see cref="MuxStream.Window"/>).</summary>
    internal StreamWindowBudget WindowBudget { get; }

    /// <summary>The pipes of the connection, when the mux runs on them (the server's side).</summary>
    internal FrameLegStreamTransport? Pipes => _transport as FrameLegStreamTransport;

    /// <summary>Who is at the other end ("agent", "server").</summary>
    internal string Peer => _peer;

    /// <summary>Streams open on the connection.</summary>
    public int Count => _streams.Count;

    /// <summary>Whether the connection is over; then no stream can be opened on it.</summary>
    public bool IsEnded => Volatile.Read(ref _endReason) is not null;

    /// <summary>
    /// The server's side: a stream with a new id (never reused on this connection) for a session the agent is asked to
    /// open. <see cref="MuxStream.Accepted"/> completes when the agent's first frame for it arrives.
    /// </summary>
    /// <exception cref="InvalidOperationException">The connection is retired (<see cref="TryRetire"/>).</exception>
    public MuxStream Reserve() => TryReserve() ?? throw new InvalidOperationException("the streams connection is retired");

    /// <summary>As <see cref="Reserve"/>, or <c>null</c> once the connection is retired: the session then needs a connection of its own.</summary>
    public MuxStream? TryReserve()
    {
        MuxStream stream;
        lock (_reserveGate)
        {
            if (_retired)
            {
                return null;
            }

            stream = new MuxStream(this, Interlocked.Increment(ref _lastId));
            _streams[stream.Id] = stream;
        }

        if (IsEnded)
        {
            stream.ConnectionLost(LostReason);
        }

        return stream;
    }

    /// <summary>
    /// The server's side: retires the connection if no stream has been open on it for <paramref name="idleFor"/>. A
    /// retired connection reserves no more streams, so the caller can close it without racing a session that was
    /// about to be put on it.
    /// </summary>
    public bool TryRetire(TimeSpan idleFor)
    {
        lock (_reserveGate)
        {
            var idle = _streams.IsEmpty && Environment.TickCount64 - Volatile.Read(ref _idleSince) >= (long)idleFor.TotalMilliseconds;
            _retired |= idle;
            return _retired;
        }
    }

    /// <summary>
    /// The agent's side: the stream the server reserved as <paramref name="id"/>. Register it before dialling, so that a
    /// close the server sends meanwhile is not lost; <see cref="MuxStream.AcknowledgeAsync"/> tells the server it is open.
    /// </summary>
    /// <exception cref="InvalidOperationException">The id is in use on this connection.</exception>
    public MuxStream Accept(uint id)
    {
        var stream = new MuxStream(this, id);
        if (!_streams.TryAdd(id, stream))
        {
            throw new InvalidOperationException($"stream {id} is already open");
        }

        if (IsEnded)
        {
            stream.ConnectionLost(LostReason);
        }

        return stream;
    }

    /// <summary>
    /// Reads the connection until it ends and hands each frame to its stream; returns why it ended. Every stream still
    /// open then gets a close of its own (1001).
    /// </summary>
    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        string reason;
        try
        {
            reason = await _transport.ReceiveAsync(this, stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            reason = "stopped";
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            reason = WebSocketPump.Describe(ex);
        }

        End(reason);
        return reason;
    }

    /// <summary>
    /// Hands one frame to its stream: <paramref name="data"/> (a pooled array the stream then owns) for a data frame, the
    /// payload in <paramref name="control"/> for any other. Returns the rule the frame broke, if any.
    /// </summary>
    internal string? Deliver(uint streamId, StreamFrameType type, ReadOnlySpan<byte> control, byte[]? data, int offset, int length)
    {
        if (!_streams.TryGetValue(streamId, out var stream))
        {
            // A frame for a stream that has ended on this side meanwhile is dropped: the peer learns of the end from our close.
            if (data is not null)
            {
                ArrayPool<byte>.Shared.Return(data);
            }

            return null;
        }

        return stream.Deliver(type, control, data, offset, length);
    }

    /// <summary>
    /// Sends one frame. The caller's token bounds only the wait for the connection: a frame once started is finished,
    /// because cancelling a WebSocket's send would abort the connection every other stream shares.
    /// </summary>
    internal ValueTask SendAsync(uint streamId, StreamFrameType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        if (IsEnded)
        {
            throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, $"the streams connection is closed: {_endReason}");
        }

        return _transport.SendAsync(streamId, type, payload, cancellationToken, _stop.Token);
    }

    internal ValueTask SendCreditAsync(uint streamId, uint credit, CancellationToken cancellationToken)
    {
        Span<byte> payload = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, credit);
        return SendAsync(streamId, StreamFrameType.Credit, payload.ToArray(), cancellationToken);
    }

    internal ValueTask SendCloseAsync(uint streamId, WebSocketCloseStatus status, string reason, CancellationToken cancellationToken)
    {
        // Empty (1005) means "no status" and may not be sent as one (RFC 6455 section 7.4.1): it travels as a close
        // without a payload, which the receiver reads as Empty again. Sent as 1005, the peer would end the connection.
        if (status == WebSocketCloseStatus.Empty)
        {
            return SendAsync(streamId, StreamFrameType.Close, default, cancellationToken);
        }

        return SendAsync(streamId, StreamFrameType.Close, DataFrames.ClosePayload(status, reason), cancellationToken);
    }

    internal void Remove(MuxStream stream)
    {
        if (!_streams.TryRemove(new KeyValuePair<uint, MuxStream>(stream.Id, stream)))
        {
            return;
        }

        stream.SettleBudget();
        if (_streams.IsEmpty)
        {
            Volatile.Write(ref _idleSince, Environment.TickCount64);
        }
    }

    // What every stream of a lost connection reads as its close, also one reserved or accepted after the loss (these
    // were given the connection's own end reason, "connection closed without a close frame", where the streams open at
    // the loss read "agent disconnected").
    private string LostReason => $"{_peer} disconnected";

    /// <summary>Ends every stream: the connection is gone.</summary>
    private void End(string reason)
    {
        if (Interlocked.CompareExchange(ref _endReason, reason, null) is not null)
        {
            return;
        }

        foreach (var stream in _streams.Values)
        {
            stream.ConnectionLost(LostReason);
            stream.SettleBudget();
        }
    }

    /// <summary>Closes the connection with a reason (every stream on it ends) and waits for the receive loop to see it.</summary>
    public Task CloseAsync(WebSocketCloseStatus status, string reason) => _transport.CloseAsync(status, reason);

    /// <summary>Stops the receive loop; the streams still open end with 1001.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        End("stopped");
    }
}
