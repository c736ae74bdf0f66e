using System.Buffers;
using System.Runtime.CompilerServices;

namespace Porthole.Tunnel.Transport;

/// <summary>A connection the <see cref="SilentPeerWatch"/> looks at on every tick.</summary>
internal interface IWatchedPeer
{
    /// <summary>Ends the connection if its peer has been silent too long (and keeps the peer talking, where it must).</summary>
    void Check();
}

/// <summary>
/// One timer for all the watched connections (<see cref="SilentPeerStream"/>s and relay legs) of a clock and a check
/// period: each tick looks at every registered one. A server holds two watched WebSockets per session and one per agent, mostly idle; a timer of
/// their own each cost a timer, its queue entry and a callback per stream per second (issue 7). The timer exists
/// only while a stream is registered.
/// </summary>
internal sealed class SilentPeerWatch
{
    private static readonly ConditionalWeakTable<TimeProvider, Dictionary<TimeSpan, SilentPeerWatch>> Watches = [];

    private readonly Lock _lock = new();
    private readonly HashSet<IWatchedPeer> _streams = [];
    private readonly TimeProvider _time;
    private readonly TimeSpan _period;
    private ITimer? _timer;

    private SilentPeerWatch(TimeProvider time, TimeSpan period)
    {
        _time = time;
        _period = period;
    }

    /// <summary>The watch that checks streams of <paramref name="time"/> every <paramref name="period"/>.</summary>
    public static SilentPeerWatch For(TimeProvider time, TimeSpan period)
    {
        var watches = Watches.GetValue(time, static _ => []);
        lock (watches)
        {
            if (!watches.TryGetValue(period, out var watch))
            {
                watches[period] = watch = new SilentPeerWatch(time, period);
            }

            return watch;
        }
    }

    /// <summary>
    /// The watch for connections under <paramref name="keepAlive"/>: a few checks per silence limit bound the overshoot
    /// to a quarter of it (at most a second).
    /// </summary>
    public static SilentPeerWatch For(TimeProvider time, KeepAliveSettings keepAlive) =>
        For(time, TimeSpan.FromTicks(Math.Clamp(keepAlive.SilenceLimit.Ticks / 4, TimeSpan.TicksPerMillisecond * 20, TimeSpan.TicksPerSecond)));

    /// <summary>Starts checking <paramref name="stream"/> on every tick.</summary>
    public void Add(IWatchedPeer stream)
    {
        lock (_lock)
        {
            _streams.Add(stream);
            _timer ??= _time.CreateTimer(static state => ((SilentPeerWatch)state!).Tick(), this, _period, _period);
        }
    }

    /// <summary>Stops checking <paramref name="stream"/>; the last one out stops the timer.</summary>
    public void Remove(IWatchedPeer stream)
    {
        ITimer? stopped = null;
        lock (_lock)
        {
            if (_streams.Remove(stream) && _streams.Count == 0)
            {
                (stopped, _timer) = (_timer, null);
            }
        }

        stopped?.Dispose();
    }

    private void Tick()
    {
        // Checks run outside the lock: one may dispose a connection, and streams come and go meanwhile.
        IWatchedPeer[] snapshot;
        int count;
        lock (_lock)
        {
            count = _streams.Count;
            snapshot = ArrayPool<IWatchedPeer>.Shared.Rent(Math.Max(count, 1));
            _streams.CopyTo(snapshot);
        }

        try
        {
            for (var i = 0; i < count; i++)
            {
                snapshot[i].Check();
            }
        }
        finally
        {
            ArrayPool<IWatchedPeer>.Shared.Return(snapshot, clearArray: true);
        }
    }
}
