using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using Porthole.Tunnel.Relay;
using Porthole.Tunnel.Timing;
using Porthole.Tunnel.Transport;

namespace Porthole.Tunnel.Frames;

/// <summary>
/// One leg of a session as the server's <see cref="FrameRelay"/> holds it: the decrypted pipes of a connection whose
/// WebSocket handshake is done, read and written frame by frame with no <see cref="WebSocket"/> object in between.
/// Writes are serialised by a lock, because two parties write to a leg: the relay direction that forwards to it, and
/// the other direction answering this leg's pings. Like <see cref="SilentPeerStream"/>, a leg gives its peer up when a
/// read has waited past the silence limit, and pings it every keep-alive interval unless the two have kept each other
/// informed meanwhile.
/// </summary>
public sealed class FrameLeg : IPeriodicCheck, IAsyncDisposable
{
    private static readonly ReadOnlyMemory<byte> PingPayload = "porthole"u8.ToArray();

    private readonly SemaphoreSlim _writeLock = new(1, 1);

    // Cancels the leg's own writes (pings, pongs, close frames) when it stops, so that none outlives it.
    private readonly CancellationTokenSource _ownWrites = new();
    private readonly WriteBatch _batch = new();
    private readonly TimeProvider _time;
    private readonly KeepAliveSettings _keepAlive;
    private readonly long _silenceLimit;
    private readonly long _pingInterval;
    private readonly SharedCheckTimer _checks;
    private long _waitingSince;
    private long _lastPing;
    private long _lastHeard;
    private long _lastSent;
    private volatile bool _silent;
    private int _stopped;

    // The payload of the latest ping not answered yet, and whether a sender is answering (RFC 6455 section 5.5.3
    // allows answering only the latest): a peer flooding pings costs one pending pong, not one task per ping.
    private byte[]? _owedPong;
    private int _sendingPongs;

    // Guarded by _writeLock.
    private bool _closeSent;
    private bool _handedOver;

    /// <param name="transport">The connection's pipes, after the handshake's response has been flushed.</param>
    /// <param name="name">Who is at the other end ("client", "agent"), for reasons.</param>
    /// <param name="keepAlive">When to ping and when to give up on a silent peer.</param>
    /// <param name="time">The clock; the system's by default.</param>
    public FrameLeg(IDuplexPipe transport, string name, KeepAliveSettings keepAlive, TimeProvider? time = null)
    {
        Input = transport.Input;
        Output = transport.Output;
        Name = name;
        _keepAlive = keepAlive;
        _time = time ?? TimeProvider.System;
        _silenceLimit = (long)(keepAlive.SilenceLimit.TotalSeconds * _time.TimestampFrequency);
        _pingInterval = (long)(keepAlive.Interval.TotalSeconds * _time.TimestampFrequency);
        _lastPing = _lastHeard = _lastSent = _time.GetTimestamp();
        _checks = SharedCheckTimer.ForLimit(_time, keepAlive.SilenceLimit);
        _checks.Add(this);
    }

    /// <summary>Who is at the other end.</summary>
    public string Name { get; }

    /// <summary>The connection's decrypted input; only the relay direction forwarding from this leg reads it.</summary>
    public PipeReader Input { get; }

    internal PipeWriter Output { get; }

    /// <summary>Whether the peer stayed silent past the limit while a read waited (the read then returns cancelled).</summary>
    public bool IsSilent => _silent;

    /// <summary>Why a silent peer was given up, as a reason for the other side.</summary>
    public string SilenceReason => new PeerSilentException(_keepAlive.SilenceLimit).Message;

    /// <summary>Waits for input; the time spent waiting is what the silence limit counts.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken)
    {
        Volatile.Write(ref _waitingSince, Math.Max(1, _time.GetTimestamp()));
        try
        {
            var result = await Input.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (!result.Buffer.IsEmpty)
            {
                Volatile.Write(ref _lastHeard, _time.GetTimestamp());
            }

            return result;
        }
        finally
        {
            Volatile.Write(ref _waitingSince, 0);
        }
    }

    /// <summary>
    /// Takes the write lock for a batch of frames; <c>false</c> (lock not taken) once a close frame has gone out on
    /// this leg, after which nothing more may be sent (RFC 6455 section 5.5.1).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    internal async ValueTask<bool> EnterWriteAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (_closeSent || _handedOver)
        {
            _writeLock.Release();
            return false;
        }

        return true;
    }

    internal void ExitWrite() => _writeLock.Release();

    /// <summary>Sends what the batch wrote, in one socket send under TLS; <c>false</c> when the connection is gone.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    internal async ValueTask<bool> FlushAsync(CancellationToken cancellationToken)
    {
        var result = await _batch.FlushAsync(Output, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _lastSent, _time.GetTimestamp());
        return !result.IsCompleted && !result.IsCanceled;
    }

    /// <summary>Writes a control frame inside a write batch the caller holds.</summary>
    internal void WriteControl(FrameOpcode opcode, ReadOnlySpan<byte> payload)
    {
        var span = Output.GetSpan(2 + payload.Length);
        var header = FrameHeader.WriteUnmasked(span, fin: true, opcode, payload.Length);
        payload.CopyTo(span[header..]);
        Output.Advance(header + payload.Length);
        if (opcode == FrameOpcode.Close)
        {
            _closeSent = true;
        }
    }

    /// <summary>
    /// Sends one control frame on its own (the server's own or a forwarded close frame, a pong), bounded by
    /// <see cref="WebSocketClosing.Timeout"/> and cancelled when the leg stops; never throws, since the leg may be gone.
    /// Nothing is sent after a close.
    /// </summary>
    public async Task SendControlAsync(FrameOpcode opcode, ReadOnlyMemory<byte> payload)
    {
        try
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(_ownWrites.Token);
            limit.CancelAfter(WebSocketClosing.Timeout);
            if (!await EnterWriteAsync(limit.Token).ConfigureAwait(false))
            {
                return;
            }

            try
            {
                WriteControl(opcode, payload.Span);
                await FlushAsync(limit.Token).ConfigureAwait(false);
            }
            finally
            {
                ExitWrite();
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException or ObjectDisposedException)
        {
            // The connection is gone or stuck; the relay ends the session on its own.
        }
    }

    /// <summary>
    /// Answers a ping from this leg's peer. The pong goes out from its own task, because the caller (the direction
    /// reading this leg) must not wait for this leg's writer, the other direction.
    /// </summary>
    internal void OwePong(byte[] payload)
    {
        Volatile.Write(ref _owedPong, payload);
        if (Interlocked.CompareExchange(ref _sendingPongs, 1, 0) == 0)
        {
            _ = SendOwedPongsAsync();
        }
    }

    private async Task SendOwedPongsAsync()
    {
        while (true)
        {
            while (Interlocked.Exchange(ref _owedPong, null) is { } payload)
            {
                await SendControlAsync(FrameOpcode.Pong, payload).ConfigureAwait(false);
            }

            Volatile.Write(ref _sendingPongs, 0);

            // A ping that came in after the last exchange and before the flag was cleared still gets its pong.
            if (Volatile.Read(ref _owedPong) is null || Interlocked.CompareExchange(ref _sendingPongs, 1, 0) != 0)
            {
                return;
            }
        }
    }

    /// <summary>Sends a close frame with a status and a reason (clipped to fit), once.</summary>
    public Task CloseOutputAsync(WebSocketCloseStatus status, string reason)
    {
        return SendControlAsync(FrameOpcode.Close, DataFrames.ClosePayload(status, reason));
    }

    /// <summary>
    /// Stops the leg's own writing for good: no more pings, and a ping, pong or close frame still on its way is
    /// cancelled and waited for. Before the connection is handed to a <see cref="WebSocket"/> (the leg must not have
    /// been read from), and before the connection ends, so no write of the leg outlives it.
    /// </summary>
    public async ValueTask StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        _checks.Remove(this);
        await _ownWrites.CancelAsync().ConfigureAwait(false);
        await _writeLock.WaitAsync().ConfigureAwait(false);
        _handedOver = true;
        _writeLock.Release();
    }

    void IPeriodicCheck.Check()
    {
        var now = _time.GetTimestamp();
        var since = Volatile.Read(ref _waitingSince);
        if (since != 0 && now - since >= _silenceLimit && !_silent)
        {
            _silent = true;
            Input.CancelPendingRead();
            return;
        }

        // A ping is for a peer we have not heard from, or that has not heard from us, within the interval. A peer that
        // pings us itself (the agent and the CLI do) hears our pongs and we its pings: pinging it too would double the
        // keep-alive traffic of every idle session (issue 7). A browser never pings, so its leg is pinged. And only
        // when the leg is free: a leg busy with frames is visibly alive to its peer already.
        if (now - Volatile.Read(ref _lastPing) >= _pingInterval
            && (now - Volatile.Read(ref _lastHeard) >= _pingInterval || now - Volatile.Read(ref _lastSent) >= _pingInterval)
            && Volatile.Read(ref _stopped) == 0 && _writeLock.Wait(0))
        {
            Volatile.Write(ref _lastPing, now);
            _ = PingLockedAsync();
        }
    }

    private async Task PingLockedAsync()
    {
        try
        {
            if (_closeSent || _handedOver)
            {
                return;
            }

            using var limit = CancellationTokenSource.CreateLinkedTokenSource(_ownWrites.Token);
            limit.CancelAfter(_keepAlive.SilenceLimit);
            WriteControl(FrameOpcode.Ping, PingPayload.Span);
            await FlushAsync(limit.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException or ObjectDisposedException)
        {
            // Gone: the relay notices on its next read or write.
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Same as <see cref="StopAsync"/>. The pipes belong to the connection, which closes them.</summary>
    public ValueTask DisposeAsync() => StopAsync();
}
