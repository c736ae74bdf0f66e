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
/// period. A server holds two watched WebSockets per session and one per agent, mostly idle; a timer of their own each
/// cost a timer, its queue entry and a callback per stream per second (issue 7). The timer exists only while a stream
/// is registered.
/// </summary>
/// <remarks>
/// The connections are dealt round-robin into <see cref="Slices"/> slices and the timer fires once per slice, each
/// tick checking one slice: every connection is still checked once per period, but the keep-alive pings a check sends
/// leave spread over the period. Checked all on one tick, a server with 9 000 idle sessions sent ≈1 200 pings at once
/// every second; each took a 64 KiB transport block until its send completed, far more than the shared array pool
/// keeps, so every burst allocated fresh blocks: 44 MB/s of garbage and half a core spent while nothing happened
/// (docs/performance.md, "Idle sessions at scale").
/// </remarks>
internal sealed class SilentPeerWatch
{
    /// <summary>Ticks per period; each checks the connections of one slice.</summary>
    internal const int Slices = 16;

    private static readonly ConditionalWeakTable<TimeProvider, Dictionary<TimeSpan, SilentPeerWatch>> Watches = [];

    private readonly Lock _lock = new();
    private readonly Dictionary<IWatchedPeer, int> _sliceOf = [];
    private readonly HashSet<IWatchedPeer>[] _slices = Enumerable.Range(0, Slices).Select(_ => new HashSet<IWatchedPeer>()).ToArray();
    private readonly TimeProvider _time;
    private readonly TimeSpan _period;
    private ITimer? _timer;
    private int _nextSlice;
    private int _tickSlice;

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

    /// <summary>Starts checking <paramref name="stream"/> once per period.</summary>
    public void Add(IWatchedPeer stream)
    {
        lock (_lock)
        {
            if (!_sliceOf.TryAdd(stream, _nextSlice))
            {
                return;
            }

            _slices[_nextSlice].Add(stream);
            _nextSlice = (_nextSlice + 1) % Slices;
            var tick = _period / Slices;
            _timer ??= _time.CreateTimer(static state => ((SilentPeerWatch)state!).Tick(), this, tick, tick);
        }
    }

    /// <summary>Stops checking <paramref name="stream"/>; the last one out stops the timer.</summary>
    public void Remove(IWatchedPeer stream)
    {
        ITimer? stopped = null;
        lock (_lock)
        {
            if (_sliceOf.Remove(stream, out var slice) && _slices[slice].Remove(stream) && _sliceOf.Count == 0)
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
            var slice = _slices[_tickSlice];
            _tickSlice = (_tickSlice + 1) % Slices;
            count = slice.Count;
            if (count == 0)
            {
                return;
            }

            snapshot = ArrayPool<IWatchedPeer>.Shared.Rent(count);
            slice.CopyTo(snapshot);
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
