using System.Runtime.CompilerServices;
using Porthole.Tunnel.Timing;

namespace Porthole.Tunnel.Transport;

/// <summary>
/// The connection under a WebSocket, watched for a silent peer: when a read has waited longer than
/// <see cref="KeepAliveSettings.SilenceLimit"/> without a byte arriving, the read fails with
/// <see cref="PeerSilentException"/> (so the WebSocket, and the session on it, ends with that reason). Time is
/// counted only while a read is pending, so a peer we are not reading from (back-pressure) is never judged.
/// The peer is kept talking by the WebSocket's pings every <see cref="KeepAliveSettings.Interval"/>. The checks of all
/// streams with the same clock and limit share one timer (<see cref="SharedCheckTimer"/>).
/// </summary>
public sealed class SilentPeerStream : LayeredStream, IPeriodicCheck
{
    private readonly TimeProvider _time;
    private readonly long _limit;
    private readonly TimeSpan _silenceLimit;
    private readonly CancellationTokenSource _silent = new();
    private readonly SharedCheckTimer _checks;
    private readonly WriteBatch _batch = new();

    // 0 when no read is pending, else the timestamp the current wait began.
    private long _waitingSince;

    // The caller's token linked with _silent, kept for the next read with the same token: a reader passes the same
    // one read after read (the streams connection's stop token), and a linked source per read cost an allocation and
    // two callback registrations per TLS record. Reads are never concurrent, so no lock.
    private CancellationTokenSource? _linked;
    private CancellationToken _linkedTo;

    public SilentPeerStream(Stream inner, KeepAliveSettings keepAlive, TimeProvider? time = null)
        : base(inner)
    {
        _time = time ?? TimeProvider.System;
        _silenceLimit = keepAlive.SilenceLimit;
        _limit = (long)(_silenceLimit.TotalSeconds * _time.TimestampFrequency);

        _checks = SharedCheckTimer.ForLimit(_time, keepAlive.SilenceLimit);
        _checks.Add(this);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_silent.IsCancellationRequested)
        {
            throw new PeerSilentException(_silenceLimit);
        }

        Volatile.Write(ref _waitingSince, Math.Max(1, _time.GetTimestamp()));
        try
        {
            return await Inner.ReadAsync(buffer, Link(cancellationToken)).ConfigureAwait(false);
        }
        catch (Exception ex) when (_silent.IsCancellationRequested && !cancellationToken.IsCancellationRequested && ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            throw new PeerSilentException(_silenceLimit);
        }
        finally
        {
            Volatile.Write(ref _waitingSince, 0);
        }
    }

    /// <summary>The token a read passes on: cancelled by the caller's token or by silence.</summary>
    private CancellationToken Link(CancellationToken cancellationToken)
    {
        // Only a cancellable caller needs a linked source; the WebSocket's own reads mostly are not.
        if (!cancellationToken.CanBeCanceled)
        {
            return _silent.Token;
        }

        if (_linked is null || _linkedTo != cancellationToken)
        {
            _linked?.Dispose();
            (_linked, _linkedTo) = (CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _silent.Token), cancellationToken);
        }

        return _linked.Token;
    }

    /// <summary>Each write is one WebSocket frame; it leaves the connection's socket as one send (<see cref="WriteBatch"/>).</summary>
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        _silent.IsCancellationRequested ? ValueTask.FromException(new PeerSilentException(_silenceLimit)) : _batch.WriteAsync(Inner, buffer, cancellationToken);

    public override int Read(Span<byte> buffer)
    {
        var array = new byte[buffer.Length];
        var count = ReadAsync(array).AsTask().GetAwaiter().GetResult();
        array.AsSpan(0, count).CopyTo(buffer);
        return count;
    }

    public override void Write(ReadOnlySpan<byte> buffer) => WriteAsync(buffer.ToArray()).AsTask().GetAwaiter().GetResult();

    /// <summary>Called by the shared check timer once per period: ends the connection once a read has waited past the limit.</summary>
    void IPeriodicCheck.Check()
    {
        var since = Volatile.Read(ref _waitingSince);
        if (since != 0 && _time.GetTimestamp() - since >= _limit && !_silent.IsCancellationRequested)
        {
            // Cancelling the pending read is not enough for every stream; disposing the connection ends it for sure
            // and also fails a write stuck on a peer that stopped reading.
            try
            {
                _silent.Cancel();
                Inner.Dispose();
            }
            catch (ObjectDisposedException)
            {
                // Disposed meanwhile: the connection is gone anyway.
            }
        }
    }

    protected override void OnDisposed()
    {
        _checks.Remove(this);
        _linked?.Dispose();
        _silent.Dispose();
    }
}
