using System.Buffers;
using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Porthole.Tunnel.Frames;
using Porthole.Tunnel.Relay;
using Porthole.Tunnel.Transport;

namespace Porthole.Tunnel.Streams;

/// <summary>
/// Stream frames as WebSocket client frames, read and written on the upgraded connection itself with no
/// <see cref="WebSocket"/> object in between: the agent's side of the streams connection. A data frame's payload is
/// read straight into the pooled array its stream then owns, and a frame to send is masked once, in the copy that puts
/// it behind its headers, into the one buffer that goes to the connection; through a WebSocket object each direction
/// cost one copy more (docs/performance.md, "Agent streams"). Every keep-alive interval in which nothing else went out,
/// the server is pinged, so that it does not take a quiet agent for gone; a silent server is noticed by the connection
/// beneath (<see cref="SilentPeerStream"/>).
/// </summary>
internal sealed class ClientFrameTransport(Stream connection, TimeSpan pingInterval) : IStreamTransport
{
    // Headers and small frames (credits, fins, closes) are read through this buffer; a data payload is read past it.
    private const int ReadBufferSize = 16 * 1024;

    private static readonly byte[] PingPayload = "porthole"u8.ToArray();

    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly byte[] _input = new byte[ReadBufferSize];
    private int _start;
    private int _end;
    private long _lastSent = Environment.TickCount64;
    private int _ponging;

    // Guarded by _sendLock.
    private bool _closeSent;

    public async Task<string> ReceiveAsync(StreamMux mux, CancellationToken cancellationToken)
    {
        using var stopPings = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pings = PingAsync(stopPings.Token);
        try
        {
            return await ReadFramesAsync(mux, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await stopPings.CancelAsync().ConfigureAwait(false);
            await pings.ConfigureAwait(false);
        }
    }

    private async Task<string> ReadFramesAsync(StreamMux mux, CancellationToken cancellationToken)
    {
        while (true)
        {
            await FillAsync(2, cancellationToken).ConfigureAwait(false);
            await FillAsync(HeaderLength(_input[_start + 1]), cancellationToken).ConfigureAwait(false);
            FrameHeader.TryRead(new ReadOnlySequence<byte>(_input, _start, _end - _start), out var header, out var error, fromServer: true);
            if (error is not null)
            {
                return await FailAsync(error).ConfigureAwait(false);
            }

            if (header.PayloadLength > StreamFrame.MaxMessage)
            {
                return await FailAsync($"message over the {StreamFrame.MaxMessage}-byte limit").ConfigureAwait(false);
            }

            _start += header.HeaderLength;
            var length = (int)header.PayloadLength;
            switch (header.Opcode)
            {
                case FrameOpcode.Binary when header.Fin:
                    error = await ReadStreamFrameAsync(mux, length, cancellationToken).ConfigureAwait(false);
                    if (error is not null)
                    {
                        return await FailAsync(error).ConfigureAwait(false);
                    }

                    continue;

                case FrameOpcode.Ping:
                    Pong(await ReadArrayAsync(length, cancellationToken).ConfigureAwait(false));
                    continue;

                case FrameOpcode.Pong:
                    await ReadArrayAsync(length, cancellationToken).ConfigureAwait(false);
                    continue;

                case FrameOpcode.Close:
                    var close = await ReadArrayAsync(length, cancellationToken).ConfigureAwait(false);
                    await SendCloseAsync(close).ConfigureAwait(false);
                    return $"closed by the {mux.Peer}" + (close.Length > 2 ? ": " + Encoding.UTF8.GetString(close, 2, close.Length - 2) : "");

                default:
                    return await FailAsync(header.Opcode == FrameOpcode.Text ? "text message on the streams connection" : "fragmented message on the streams connection").ConfigureAwait(false);
            }
        }
    }

    /// <summary>A frame header's length from its second byte: the length code says how many length bytes follow, the mask bit whether a key does.</summary>
    private static int HeaderLength(byte second) => 2 + ((second & 0x7F) switch { 126 => 2, 127 => 8, _ => 0 }) + ((second & 0x80) != 0 ? 4 : 0);

    /// <summary>Reads one stream frame of <paramref name="length"/> bytes and hands it to its stream; returns the rule it broke, if any.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<string?> ReadStreamFrameAsync(StreamMux mux, int length, CancellationToken cancellationToken)
    {
        if (length < StreamFrame.HeaderLength)
        {
            return $"stream frame of {length} bytes is shorter than its {StreamFrame.HeaderLength}-byte header";
        }

        await FillAsync(StreamFrame.HeaderLength, cancellationToken).ConfigureAwait(false);
        var streamId = BinaryPrimitives.ReadUInt32BigEndian(_input.AsSpan(_start));
        var type = (StreamFrameType)_input[_start + 4];
        _start += StreamFrame.HeaderLength;
        var payloadLength = length - StreamFrame.HeaderLength;
        if (type == StreamFrameType.Data && payloadLength <= StreamFrame.MaxData)
        {
            var data = ArrayPool<byte>.Shared.Rent(Math.Max(payloadLength, 1));
            try
            {
                await ReadExactlyAsync(data.AsMemory(0, payloadLength), cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(data);
                throw;
            }

            return mux.Deliver(streamId, StreamFrameType.Data, default, data, 0, payloadLength);
        }

        // Anything else is small, or breaks a rule the parser names.
        var message = new byte[length];
        StreamFrame.WriteHeader(message, streamId, type);
        await ReadExactlyAsync(message.AsMemory(StreamFrame.HeaderLength), cancellationToken).ConfigureAwait(false);
        var error = StreamFrame.TryParse(message, out var frame);
        return error ?? mux.Deliver(frame.StreamId, frame.Type, frame.Payload.Span, null, 0, 0);
    }

    /// <summary>Waits until at least <paramref name="count"/> bytes are buffered; the connection's end before that is an error.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FillAsync(int count, CancellationToken cancellationToken)
    {
        if (_end - _start >= count)
        {
            return;
        }

        if (_start > 0)
        {
            _input.AsSpan(_start, _end - _start).CopyTo(_input);
            (_end, _start) = (_end - _start, 0);
        }

        while (_end < count)
        {
            var read = await connection.ReadAsync(_input.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw ClosedPrematurely();
            }

            _end += read;
        }
    }

    /// <summary>Fills <paramref name="destination"/>: first from the buffer, the rest straight from the connection.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ReadExactlyAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        var buffered = Math.Min(destination.Length, _end - _start);
        _input.AsSpan(_start, buffered).CopyTo(destination.Span);
        _start += buffered;
        if (buffered < destination.Length
            && await connection.ReadAtLeastAsync(destination[buffered..], destination.Length - buffered, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) < destination.Length - buffered)
        {
            throw ClosedPrematurely();
        }
    }

    private async ValueTask<byte[]> ReadArrayAsync(int length, CancellationToken cancellationToken)
    {
        var payload = new byte[length];
        await ReadExactlyAsync(payload, cancellationToken).ConfigureAwait(false);
        return payload;
    }

    private static WebSocketException ClosedPrematurely() => new(WebSocketError.ConnectionClosedPrematurely, "connection closed without a close frame");

    private async Task<string> FailAsync(string error)
    {
        await CloseAsync(WebSocketCloseStatus.ProtocolError, error).ConfigureAwait(false);
        return "protocol error: " + error;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SendAsync(uint streamId, StreamFrameType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken, CancellationToken stop)
    {
        var frame = ArrayPool<byte>.Shared.Rent(FrameHeader.MaxLength + StreamFrame.HeaderLength + payload.Length);
        try
        {
            Span<byte> header = stackalloc byte[StreamFrame.HeaderLength];
            StreamFrame.WriteHeader(header, streamId, type);
            var length = WriteFrame(frame, FrameOpcode.Binary, header, payload.Span);
            await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (_closeSent)
                {
                    throw new WebSocketException(WebSocketError.InvalidState, "the streams connection is closing");
                }

                await WriteLockedAsync(frame.AsMemory(0, length), stop).ConfigureAwait(false);
            }
            finally
            {
                _sendLock.Release();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    /// <summary>Writes a masked frame: its header with a fresh key, then <paramref name="prefix"/> and <paramref name="payload"/> masked with it.</summary>
    private static int WriteFrame(Span<byte> destination, FrameOpcode opcode, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> payload)
    {
        // RFC 6455 section 5.3: a new, unpredictable key per frame.
        Span<byte> key = stackalloc byte[4];
        RandomNumberGenerator.Fill(key);
        var mask = BinaryPrimitives.ReadUInt32LittleEndian(key);
        var length = FrameHeader.WriteMasked(destination, fin: true, opcode, prefix.Length + payload.Length, mask);
        FrameMask.UnmaskCopy(prefix, destination[length..], ref mask);
        FrameMask.UnmaskCopy(payload, destination[(length + prefix.Length)..], ref mask);
        return length + prefix.Length + payload.Length;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteLockedAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        await connection.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
        await connection.FlushAsync(cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _lastSent, Environment.TickCount64);
    }

    /// <summary>Sends a control frame unless a close has gone out; a close marks the connection closed for sending.</summary>
    private async Task SendControlAsync(FrameOpcode opcode, byte[] payload)
    {
        var frame = new byte[FrameHeader.MaxLength + payload.Length];
        var length = WriteFrame(frame, opcode, default, payload);
        using var limit = new CancellationTokenSource(WebSocketClosing.Timeout);
        await _sendLock.WaitAsync(limit.Token).ConfigureAwait(false);
        try
        {
            if (_closeSent)
            {
                return;
            }

            _closeSent = opcode == FrameOpcode.Close;
            await WriteLockedAsync(frame.AsMemory(0, length), limit.Token).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Answers a ping without holding up the reader; while one answer is on its way, further pings go unanswered (RFC 6455 section 5.5.3 asks only for the latest).</summary>
    private void Pong(byte[] payload)
    {
        if (Interlocked.Exchange(ref _ponging, 1) == 0)
        {
            _ = PongAsync(payload);
        }
    }

    private async Task PongAsync(byte[] payload)
    {
        try
        {
            await SendControlAsync(FrameOpcode.Pong, payload).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsConnectionGone(ex))
        {
            // Gone: the reader sees it.
        }
        finally
        {
            Volatile.Write(ref _ponging, 0);
        }
    }

    /// <summary>Pings every interval in which nothing else went out, until the receive loop ends.</summary>
    private async Task PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timer = new PeriodicTimer(pingInterval);
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                if (Environment.TickCount64 - Volatile.Read(ref _lastSent) >= pingInterval.TotalMilliseconds / 2)
                {
                    await SendControlAsync(FrameOpcode.Ping, PingPayload).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (IsConnectionGone(ex))
        {
            // Stopped, or the connection is gone and the reader sees it.
        }
    }

    /// <summary>Echoes the server's close (or sends nothing when ours went first).</summary>
    private async Task SendCloseAsync(byte[] payload)
    {
        try
        {
            await SendControlAsync(FrameOpcode.Close, payload).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsConnectionGone(ex))
        {
            // Gone already.
        }
    }

    public Task CloseAsync(WebSocketCloseStatus status, string reason)
    {
        return SendCloseAsync(DataFrames.ClosePayload(status, reason));
    }

    private static bool IsConnectionGone(Exception ex) =>
        ex is IOException or ObjectDisposedException or OperationCanceledException or WebSocketException or InvalidOperationException;
}
