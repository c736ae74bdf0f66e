using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
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
    // Most messages on the connection are credits, fins and closes; a data frame larger than this is read on into a
    // buffer of its own, which then travels to the stream without another copy.
    private const int SmallMessage = 1024;

    private readonly WebSocket _connection;
    private readonly string _peer;
    private readonly ConcurrentDictionary<uint, MuxStream> _streams = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly byte[] _small = new byte[SmallMessage];
    private uint _lastId;
    private string? _endReason;

    /// <param name="connection">The shared connection; the caller owns it and disposes it after <see cref="RunAsync"/>.</param>
    /// <param name="peer">Who is at the other end ("agent", "server"), for the reason a lost connection gives its streams.</param>
    public StreamMux(WebSocket connection, string peer)
    {
        (_connection, _peer) = (connection, peer);
    }

    /// <summary>Streams open on the connection.</summary>
    public int Count => _streams.Count;

    /// <summary>Whether the connection is over; then no stream can be opened on it.</summary>
    public bool IsEnded => Volatile.Read(ref _endReason) is not null;

    /// <summary>
    /// The server's side: a stream with a new id (never reused on this connection) for a session the agent is asked to
    /// open. <see cref="MuxStream.Accepted"/> completes when the agent's first frame for it arrives.
    /// </summary>
    public MuxStream Reserve()
    {
        var stream = new MuxStream(this, Interlocked.Increment(ref _lastId));
        _streams[stream.Id] = stream;
        if (IsEnded)
        {
            stream.ConnectionLost(LostReason);
        }

        return stream;
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
            reason = await ReceiveLoopAsync(stop.Token).ConfigureAwait(false);
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

    private async Task<string> ReceiveLoopAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var received = await _connection.ReceiveAsync(_small.AsMemory(), cancellationToken).ConfigureAwait(false);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                await WebSocketClosing.CloseOutputAsync(_connection, WebSocketCloseStatus.NormalClosure, "bye").ConfigureAwait(false);
                return $"closed by the {_peer}" + (string.IsNullOrEmpty(_connection.CloseStatusDescription) ? "" : ": " + _connection.CloseStatusDescription);
            }

            if (received.MessageType != WebSocketMessageType.Binary)
            {
                return await FailAsync("text message on the streams connection").ConfigureAwait(false);
            }

            var (message, length, rented) = (_small, received.Count, false);
            if (!received.EndOfMessage)
            {
                (message, rented) = (ArrayPool<byte>.Shared.Rent(StreamFrame.MaxMessage), true);
                _small.AsSpan(0, length).CopyTo(message);
                while (!received.EndOfMessage)
                {
                    if (length == StreamFrame.MaxMessage)
                    {
                        ArrayPool<byte>.Shared.Return(message);
                        return await FailAsync($"message over the {StreamFrame.MaxMessage}-byte limit").ConfigureAwait(false);
                    }

                    received = await _connection.ReceiveAsync(message.AsMemory(length, StreamFrame.MaxMessage - length), cancellationToken).ConfigureAwait(false);
                    length += received.Count;
                }
            }

            var error = Dispatch(message, length, rented);
            if (error is not null)
            {
                return await FailAsync(error).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Hands one message to its stream; a rented <paramref name="message"/> goes with it (or back to the pool).</summary>
    private string? Dispatch(byte[] message, int length, bool rented)
    {
        var error = StreamFrame.TryParse(message.AsMemory(0, length), out var frame);
        if (error is not null || !_streams.TryGetValue(frame.StreamId, out var stream))
        {
            // A frame for a stream that has ended on this side meanwhile is dropped: the peer learns of the end from our close.
            Release(message, rented);
            return error;
        }

        if (frame.Type != StreamFrameType.Data)
        {
            var outcome = stream.Deliver(frame.Type, frame.Payload.Span, null, 0, 0);
            Release(message, rented);
            return outcome;
        }

        var payloadLength = length - StreamFrame.HeaderLength;
        if (rented)
        {
            return stream.Deliver(StreamFrameType.Data, default, message, StreamFrame.HeaderLength, payloadLength);
        }

        var copy = ArrayPool<byte>.Shared.Rent(Math.Max(payloadLength, 1));
        message.AsSpan(StreamFrame.HeaderLength, payloadLength).CopyTo(copy);
        return stream.Deliver(StreamFrameType.Data, default, copy, 0, payloadLength);
    }

    private static void Release(byte[] message, bool rented)
    {
        if (rented)
        {
            ArrayPool<byte>.Shared.Return(message);
        }
    }

    private async Task<string> FailAsync(string error)
    {
        await WebSocketClosing.CloseOutputAsync(_connection, WebSocketCloseStatus.ProtocolError, error).ConfigureAwait(false);
        return "protocol error: " + error;
    }

    /// <summary>
    /// Sends one frame. The caller's token bounds only the wait for the connection: a frame once started is finished,
    /// because cancelling a WebSocket's send would abort the connection every other stream shares.
    /// </summary>
    internal async ValueTask SendAsync(uint streamId, StreamFrameType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        if (IsEnded)
        {
            throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, $"the streams connection is closed: {_endReason}");
        }

        var length = StreamFrame.HeaderLength + payload.Length;
        var message = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            StreamFrame.WriteHeader(message, streamId, type);
            payload.Span.CopyTo(message.AsSpan(StreamFrame.HeaderLength));
            await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await _connection.SendAsync(message.AsMemory(0, length), WebSocketMessageType.Binary, endOfMessage: true, _stop.Token).ConfigureAwait(false);
            }
            finally
            {
                _sendLock.Release();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(message);
        }
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

        var clipped = DataFrames.ClipReason(reason);
        var payload = new byte[2 + Encoding.UTF8.GetByteCount(clipped)];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)status);
        Encoding.UTF8.GetBytes(clipped, payload.AsSpan(2));
        return SendAsync(streamId, StreamFrameType.Close, payload, cancellationToken);
    }

    internal void Remove(MuxStream stream) => _streams.TryRemove(new KeyValuePair<uint, MuxStream>(stream.Id, stream));

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
        }
    }

    /// <summary>Closes the connection with a reason (every stream on it ends) and waits for the receive loop to see it.</summary>
    public Task CloseAsync(WebSocketCloseStatus status, string reason) => WebSocketClosing.CloseOutputAsync(_connection, status, reason);

    /// <summary>Stops the receive loop; the streams still open end with 1001.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        End("stopped");
    }
}
