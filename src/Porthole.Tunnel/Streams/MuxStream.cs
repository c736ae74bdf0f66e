using System.Buffers;
using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text;
using Porthole.Tunnel.Relay;

namespace Porthole.Tunnel.Streams;

/// <summary>
/// One session on a <see cref="StreamMux"/>, seen as a data WebSocket: binary messages are its bytes, the text message
/// <c>fin</c> its half-close, a close its end with a status and a reason (<see cref="DataFrames"/>). Message boundaries
/// are not kept; bytes and their order are. Sending waits for credit, so a peer that does not read stops only this
/// stream; cancelling an operation does not abort the stream (a WebSocket would), so a close can still follow it.
/// </summary>
public sealed partial class MuxStream : WebSocket
{
    /// <summary>
    /// Bytes either side may send on a new stream before the other grants any: the protocol's starting window, which
    /// every version assumes (docs/design/agent-streams.md). Four full data frames.
    /// </summary>
    public const int InitialWindow = 512 * 1024;

    /// <summary>
    /// The window each side gives the other once the stream is open, by granting the rest of it at once: the agent in
    /// its acknowledgement (<see cref="AcknowledgeAsync"/>), the server when that arrives (<see cref="OpenWindowAsync"/>).
    /// An older peer simply adds the grant to its window. At <see cref="InitialWindow"/> one stream ran out of credit
    /// every half window on this kind of machine, where a wake-up costs more than the copy: the whole chain went to
    /// sleep and woke again, three times the server's context switches per MB and a quarter less throughput going up;
    /// at 4 MiB it runs as a connection of its own does (docs/performance.md, "Agent streams"). It is also what a
    /// receiver may have to hold for a stream whose reader stalls.
    /// </summary>
    public const int Window = 4 * 1024 * 1024;

    private readonly StreamMux _mux;
    private readonly Lock _gate = new();
    private readonly Queue<Incoming> _incoming = new();
    private readonly TaskCompletionSource<bool> _accepted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Incoming _current;
    private bool _hasCurrent;
    private TaskCompletionSource? _readable;
    private TaskCompletionSource? _writable;
    private long _sendWindow = InitialWindow;
    private long _receiveWindow = InitialWindow;

    // The window this side has given: InitialWindow until it grants the rest of Window. Credit goes back in batches of
    // half of it (one small frame per 2 MiB), never more than granted, so a side that has not widened still returns
    // credit every 256 KiB.
    private int _window = InitialWindow;

    // What widening took from the mux's StreamWindowBudget, given back once when the stream ends (after which it is
    // never widened).
    private int _borrowed;
    private bool _budgetSettled;
    private int _consumed;
    private WebSocketState _state = WebSocketState.Open;
    private bool _closeSent;
    private bool _closeQueued;
    private string? _lost;
    private WebSocketCloseStatus? _closeStatus;
    private string? _closeDescription;

    internal MuxStream(StreamMux mux, uint id)
    {
        (_mux, Id) = (mux, id);
    }

    /// <summary>
    /// A reader's or a sender's wait. Its continuation runs on the thread that completes it, the connection's reader
    /// (no <see cref="TaskCreationOptions.RunContinuationsAsynchronously"/>), and always outside the stream's lock: a
    /// waiting relay then writes a frame on to its destination at once, as a relay reading its own connection would,
    /// instead of after a hop through the thread pool for every frame, which costs more than the copy on this kind of
    /// machine (docs/performance.md, "Agent streams"). The continuation gives the reader back at its first wait.
    /// </summary>
    private static TaskCompletionSource NewWaiter() => new();

    /// <summary>The stream's id on its connection.</summary>
    public uint Id { get; }

    /// <summary>
    /// <c>true</c> once the peer's first credit, data or fin for the stream has arrived (the agent's acknowledgement of
    /// an open); <c>false</c> when a close or the end of the connection came first.
    /// </summary>
    public Task<bool> Accepted => _accepted.Task;

    public override WebSocketCloseStatus? CloseStatus => _closeStatus;

    public override string? CloseStatusDescription => _closeDescription;

    public override WebSocketState State => _state;

    public override string? SubProtocol => null;

    /// <summary>
    /// The agent's answer to an open: the stream is there. It is a credit frame, and its credit widens the server's
    /// window to <see cref="Window"/> (an answer of zero, which older agents send, leaves it at <see cref="InitialWindow"/>).
    /// </summary>
    public ValueTask AcknowledgeAsync(CancellationToken cancellationToken) => _mux.SendCreditAsync(Id, Widen(), cancellationToken);

    /// <summary>
    /// The server's side once the agent has acknowledged the stream: widens the agent's window to <see cref="Window"/>.
    /// Sent after the acknowledgement, not with the open, because an agent drops frames for a stream it does not know
    /// yet (the open travels on the control channel). A lost connection is not reported here: the stream reads it.
    /// </summary>
    public ValueTask OpenWindowAsync()
    {
        var grant = Widen();
        return grant > 0 ? GrantAsync(grant) : default;
    }

    /// <summary>
    /// Counts the rest of <see cref="Window"/> as granted and returns it, if the mux's <see cref="StreamWindowBudget"/>
    /// has it; 0 the second time, once the stream has ended, or when the budget is spent (the peer then keeps
    /// <see cref="InitialWindow"/>, which is all an older peer would have given).
    /// </summary>
    private uint Widen()
    {
        lock (_gate)
        {
            var grant = Window - _window;
            if (grant == 0 || _budgetSettled || _lost is not null || !_mux.WindowBudget.TryTake(grant))
            {
                return 0;
            }

            (_window, _receiveWindow, _borrowed) = (Window, _receiveWindow + grant, grant);
            return (uint)grant;
        }
    }

    /// <summary>The stream has ended, or its connection has: what widening took goes back to the budget, once.</summary>
    internal void SettleBudget()
    {
        int borrowed;
        lock (_gate)
        {
            (borrowed, _borrowed, _budgetSettled) = (_borrowed, 0, true);
        }

        if (borrowed > 0)
        {
            _mux.WindowBudget.Return(borrowed);
        }
    }

    /// <summary>Takes one frame from the connection; returns the rule it broke, if any (which ends the connection).</summary>
    internal string? Deliver(StreamFrameType type, ReadOnlySpan<byte> control, byte[]? data, int offset, int length)
    {
        _accepted.TrySetResult(type != StreamFrameType.Close);
        TaskCompletionSource? wake, writable = null;
        lock (_gate)
        {
            switch (type)
            {
                case StreamFrameType.Credit:
                    _sendWindow += BinaryPrimitives.ReadUInt32BigEndian(control);
                    (wake, _writable) = (_writable, null);
                    break;

                case StreamFrameType.Data when _closeQueued || _state is WebSocketState.Aborted or WebSocketState.Closed:
                    ArrayPool<byte>.Shared.Return(data!);
                    return null;

                case StreamFrameType.Data:
                    _receiveWindow -= length;
                    if (_receiveWindow < 0)
                    {
                        ArrayPool<byte>.Shared.Return(data!);
                        return $"stream {Id} sent more than its window";
                    }

                    _incoming.Enqueue(new Incoming(StreamFrameType.Data, data, offset, length));
                    (wake, _readable) = (_readable, null);
                    break;

                case StreamFrameType.Fin when !_closeQueued:
                    _incoming.Enqueue(new Incoming(StreamFrameType.Fin, null, 0, DataFrames.Fin.Length));
                    (wake, _readable) = (_readable, null);
                    break;

                case StreamFrameType.Close when !_closeQueued:
                    _closeQueued = true;
                    var (status, reason) = control.Length >= 2
                        ? ((WebSocketCloseStatus)BinaryPrimitives.ReadUInt16BigEndian(control), Encoding.UTF8.GetString(control[2..]))
                        : (WebSocketCloseStatus.Empty, "");
                    _incoming.Enqueue(new Incoming(StreamFrameType.Close, null, 0, 0, status, reason));
                    (wake, _readable) = (_readable, null);

                    // A peer that has closed grants no more credit (an aborted one has forgotten the stream): a sender
                    // waiting for credit must wake, or it would wait for good (SendAsync drops what it has left).
                    (writable, _writable) = (_writable, null);
                    break;

                default:
                    return null;
            }
        }

        wake?.TrySetResult();
        writable?.TrySetResult();
        return null;
    }

    /// <summary>The connection is gone: the stream reads a close (1001) with <paramref name="reason"/>, and sends fail.</summary>
    internal void ConnectionLost(string reason)
    {
        _accepted.TrySetResult(false);
        TaskCompletionSource? readable, writable;
        lock (_gate)
        {
            _lost = reason;
            if (!_closeQueued)
            {
                _closeQueued = true;
                _incoming.Enqueue(new Incoming(StreamFrameType.Close, null, 0, 0, WebSocketCloseStatus.EndpointUnavailable, reason));
            }

            (readable, _readable, writable, _writable) = (_readable, null, _writable, null);
        }

        readable?.TrySetResult();
        writable?.TrySetResult();
    }

    public override async ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            TaskCompletionSource readable;
            uint grant = 0;
            ValueWebSocketReceiveResult result;
            lock (_gate)
            {
                if (_state is WebSocketState.Aborted or WebSocketState.Closed or WebSocketState.CloseReceived)
                {
                    throw new WebSocketException(WebSocketError.InvalidState, $"the stream is {_state}");
                }

                if (!_hasCurrent && _incoming.TryDequeue(out _current))
                {
                    _hasCurrent = true;
                }

                if (!_hasCurrent)
                {
                    readable = _readable ??= NewWaiter();
                    goto Wait;
                }

                result = Take(buffer.Span, ref grant);
            }

            if (grant > 0)
            {
                await GrantAsync(grant).ConfigureAwait(false);
            }

            return result;

        Wait:
            await readable.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Hands the reader what it can take of the current frame; under the lock.</summary>
    private ValueWebSocketReceiveResult Take(Span<byte> buffer, ref uint grant)
    {
        var item = _current;
        if (item.Type == StreamFrameType.Close)
        {
            _hasCurrent = false;
            (_closeStatus, _closeDescription) = (item.Status, item.Reason);
            _state = _closeSent ? WebSocketState.Closed : WebSocketState.CloseReceived;
            if (_state == WebSocketState.Closed)
            {
                _mux.Remove(this);
            }

            return new ValueWebSocketReceiveResult(0, WebSocketMessageType.Close, endOfMessage: true);
        }

        var count = Math.Min(buffer.Length, item.Length);
        var source = item.Type == StreamFrameType.Data ? item.Data.AsSpan(item.Offset, count) : DataFrames.Fin.Span.Slice(item.Offset, count);
        source.CopyTo(buffer);
        _current = item with { Offset = item.Offset + count, Length = item.Length - count };
        var end = _current.Length == 0;
        if (item.Type == StreamFrameType.Data)
        {
            if (end)
            {
                ArrayPool<byte>.Shared.Return(item.Data!);
            }

            grant = Consume(count);
        }

        _hasCurrent = !end;
        return new ValueWebSocketReceiveResult(count, item.Type == StreamFrameType.Data ? WebSocketMessageType.Binary : WebSocketMessageType.Text, end);
    }

    /// <summary>Counts bytes taken off the stream; returns the credit to send once half a window is due. Under the lock.</summary>
    private uint Consume(int count)
    {
        _consumed += count;
        if (_consumed < _window / 2)
        {
            return 0;
        }

        var grant = (uint)_consumed;
        (_consumed, _receiveWindow) = (0, _receiveWindow + grant);
        return grant;
    }

    private async ValueTask GrantAsync(uint credit)
    {
        try
        {
            await _mux.SendCreditAsync(Id, credit, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The connection is gone; the reader sees that as the stream's close.
        }
    }

    public override async ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
    {
        if (messageType == WebSocketMessageType.Text)
        {
            if (!endOfMessage || !DataFrames.IsFin(buffer.Span))
            {
                throw new WebSocketException(WebSocketError.InvalidMessageType, "a stream carries no text message but 'fin'");
            }

            lock (_gate)
            {
                ThrowIfCannotSend();
            }

            await _mux.SendAsync(Id, StreamFrameType.Fin, default, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (messageType != WebSocketMessageType.Binary)
        {
            throw new ArgumentException("close frames are sent with CloseOutputAsync", nameof(messageType));
        }

        var rest = buffer;
        while (!rest.IsEmpty)
        {
            TaskCompletionSource? writable = null;
            var chunk = 0;
            lock (_gate)
            {
                ThrowIfCannotSend();
                if (_closeQueued)
                {
                    // The peer has closed the stream and reads no more; the bytes go where a WebSocket's would after
                    // the peer's close: nowhere.
                    return;
                }

                if (_sendWindow > 0)
                {
                    chunk = (int)Math.Min(Math.Min(rest.Length, _sendWindow), StreamFrame.MaxData);
                    _sendWindow -= chunk;
                }
                else
                {
                    writable = _writable ??= NewWaiter();
                }
            }

            if (writable is not null)
            {
                await writable.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            try
            {
                await _mux.SendAsync(Id, StreamFrameType.Data, rest[..chunk], cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Cancelled while waiting for the connection: nothing went out, so the window it took is still ours.
                lock (_gate)
                {
                    _sendWindow += chunk;
                }

                throw;
            }

            rest = rest[chunk..];
        }
    }

    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, WebSocketMessageFlags messageFlags, CancellationToken cancellationToken) =>
        SendAsync(buffer, messageType, (messageFlags & WebSocketMessageFlags.EndOfMessage) != 0, cancellationToken);

    private void ThrowIfCannotSend()
    {
        if (_state == WebSocketState.Aborted || _closeSent)
        {
            throw new WebSocketException(WebSocketError.InvalidState, "the stream is closed for sending");
        }

        if (_lost is not null)
        {
            throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, _lost);
        }
    }

    public override async Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
    {
        // Refused here, as a WebSocket refuses a reserved status: the peer's parser would take the close for a protocol
        // error and end the shared connection, every other session on it with it.
        if (closeStatus == WebSocketCloseStatus.Empty ? !string.IsNullOrEmpty(statusDescription) : !StreamFrame.IsSendableCloseStatus((int)closeStatus))
        {
            throw new ArgumentException($"close status {(int)closeStatus} with this description cannot be sent on a stream", nameof(closeStatus));
        }

        TaskCompletionSource? writable;
        bool lost;
        lock (_gate)
        {
            if (_closeSent || _state == WebSocketState.Aborted)
            {
                return;
            }

            _closeSent = true;
            _state = _state == WebSocketState.CloseReceived ? WebSocketState.Closed : WebSocketState.CloseSent;
            (writable, _writable) = (_writable, null);
            lost = _lost is not null;
        }

        writable?.TrySetResult();
        if (_state == WebSocketState.Closed)
        {
            _mux.Remove(this);
        }

        if (!lost)
        {
            try
            {
                await _mux.SendCloseAsync(Id, closeStatus, statusDescription ?? "", cancellationToken).ConfigureAwait(false);
            }
            catch (WebSocketException) when (_lost is not null)
            {
                // Lost meanwhile: the reader gets the close of the lost connection.
            }
        }
    }

    /// <summary>Sends a close and drops whatever arrives until the peer's close (its answer), as a WebSocket's close does.</summary>
    public override async Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
    {
        await CloseOutputAsync(closeStatus, statusDescription, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            TaskCompletionSource readable;
            uint grant = 0;
            lock (_gate)
            {
                if (_state is WebSocketState.Closed or WebSocketState.Aborted)
                {
                    return;
                }

                while (_hasCurrent || _incoming.TryDequeue(out _current))
                {
                    _hasCurrent = false;
                    if (_current.Type == StreamFrameType.Data)
                    {
                        // Dropped bytes are credited as read ones are: a peer still sending more than a window must get
                        // to the end of its send to read this close and answer it (a WebSocket's drain keeps TCP moving).
                        ArrayPool<byte>.Shared.Return(_current.Data!);
                        grant += Consume(_current.Length);
                    }
                    else if (_current.Type == StreamFrameType.Close)
                    {
                        (_closeStatus, _closeDescription, _state) = (_current.Status, _current.Reason, WebSocketState.Closed);
                        _mux.Remove(this);
                        return;
                    }
                }

                readable = _readable ??= NewWaiter();
            }

            if (grant > 0)
            {
                await GrantAsync(grant).ConfigureAwait(false);
            }

            await readable.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Ends the stream at once; the peer gets a close (1001) unless one was sent already.</summary>
    public override void Abort()
    {
        bool tell;
        TaskCompletionSource? readable, writable;
        lock (_gate)
        {
            if (_state is WebSocketState.Closed or WebSocketState.Aborted)
            {
                return;
            }

            tell = !_closeSent && _lost is null;
            _state = WebSocketState.Aborted;
            if (_hasCurrent && _current.Type == StreamFrameType.Data)
            {
                ArrayPool<byte>.Shared.Return(_current.Data!);
            }

            _hasCurrent = false;
            while (_incoming.TryDequeue(out var item))
            {
                if (item.Type == StreamFrameType.Data)
                {
                    ArrayPool<byte>.Shared.Return(item.Data!);
                }
            }

            (readable, _readable, writable, _writable) = (_readable, null, _writable, null);
        }

        _accepted.TrySetResult(false);
        readable?.TrySetResult();
        writable?.TrySetResult();
        _mux.Remove(this);
        if (tell)
        {
            _ = TellAbortedAsync();
        }
    }

    private async Task TellAbortedAsync()
    {
        try
        {
            using var limit = new CancellationTokenSource(WebSocketClosing.Timeout);
            await _mux.SendCloseAsync(Id, WebSocketCloseStatus.EndpointUnavailable, "session aborted", limit.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The connection is gone, and the peer's streams with it.
        }
    }

    public override void Dispose() => Abort();

    public override async Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken)
    {
        var result = await ReceiveAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
        return result.MessageType == WebSocketMessageType.Close
            ? new WebSocketReceiveResult(0, WebSocketMessageType.Close, true, _closeStatus, _closeDescription)
            : new WebSocketReceiveResult(result.Count, result.MessageType, result.EndOfMessage);
    }

    public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        SendAsync(buffer.AsMemory(), messageType, endOfMessage, cancellationToken).AsTask();

    /// <summary>A frame waiting for the reader: data in a pooled array it owns, <c>fin</c>, or the peer's close.</summary>
    private readonly record struct Incoming(StreamFrameType Type, byte[]? Data, int Offset, int Length, WebSocketCloseStatus? Status = null, string? Reason = null);
}
