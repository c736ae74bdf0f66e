using System.Buffers;
using System.Runtime.CompilerServices;

namespace Porthole.Tunnel.Timing;

/// <summary>Something a <see cref="SharedCheckTimer"/> looks at once per period.</summary>
internal interface IPeriodicCheck
{
    /// <summary>Acts on what the time now requires (a silent peer given up, a ping sent, a session ended); quick, never throws.</summary>
    void Check();
}

/// <summary>
/// One timer for everything of a clock and a check period that must be looked at periodically: the keep-alive of
/// every watched connection (<see cref="Transport.SilentPeerStream"/>s and relay legs) and the idle and lifetime limits
/// of every session (<see cref="Relay.SessionLifetime"/>). A server holds two watched WebSockets and a lifetime per
/// session and one watched WebSocket per agent, mostly idle; a timer of their own each cost a timer, its queue entry
/// and a thread-pool callback per object per second, and .NET's timer queue walks its whole list of near timers
/// whenever one fires (issue 7). The timer exists only while something is registered.
/// </summary>
/// <remarks>
/// <para>
/// The registered objects are dealt round-robin into <see cref="Slices"/> slices. With many of them the timer fires once
/// per slice, each tick checking one slice: everything is still checked once per period, but the keep-alive pings the
/// checks send leave spread over the period. Checked all on one tick, a server with 9 000 idle sessions sent ≈1 200
/// pings at once every second; each took a 64 KiB transport block until its send completed, far more than the shared
/// array pool keeps, so every burst allocated fresh blocks: 44 MB/s of garbage while nothing happened
/// (docs/performance.md, "Idle sessions at scale").
/// </para>
/// <para>
/// With few, there is no burst to spread, and the timer fires once per period, checking all slices. Every tick wakes a
/// thread-pool worker, which then spins, yielding, for milliseconds before it sleeps; sliced, the agent's and the CLI's
/// one-second checks alone woke the pool 16 times a second each, so an idle agent used ≈2 % of a core and the
/// yielding competed with every relayed message for the CPU (docs/performance.md, "Timer ticks").
/// </para>
/// </remarks>
internal sealed class SharedCheckTimer
{
    /// <summary>Ticks per period once there are many items; each checks the items of one slice.</summary>
    internal const int Slices = 16;

    /// <summary>More items than this, and the timer ticks once per slice; see the remarks.</summary>
    internal const int SpreadAbove = 64;

    /// <summary>Fewer than this, and it ticks once per period again (a gap, so that a count near the line does not flap).</summary>
    internal const int GatherBelow = 32;

    private static readonly ConditionalWeakTable<TimeProvider, Dictionary<TimeSpan, SharedCheckTimer>> Timers = [];

    private readonly Lock _lock = new();
    private readonly Dictionary<IPeriodicCheck, int> _sliceOf = [];
    private readonly HashSet<IPeriodicCheck>[] _slices = Enumerable.Range(0, Slices).Select(_ => new HashSet<IPeriodicCheck>()).ToArray();
    private readonly TimeProvider _time;
    private readonly TimeSpan _period;
    private ITimer? _timer;
    private int _nextSlice;
    private int _tickSlice;
    private bool _spread;

    private SharedCheckTimer(TimeProvider time, TimeSpan period)
    {
        _time = time;
        _period = period;
    }

    /// <summary>The timer that checks what is registered with it on <paramref name="time"/> once every <paramref name="period"/>.</summary>
    public static SharedCheckTimer For(TimeProvider time, TimeSpan period)
    {
        var timers = Timers.GetValue(time, static _ => []);
        lock (timers)
        {
            if (!timers.TryGetValue(period, out var timer))
            {
                timers[period] = timer = new SharedCheckTimer(time, period);
            }

            return timer;
        }
    }

    /// <summary>
    /// The timer for a limit of <paramref name="limit"/>: four checks per limit bound the overshoot to a quarter of it,
    /// and at most a second.
    /// </summary>
    public static SharedCheckTimer ForLimit(TimeProvider time, TimeSpan limit) =>
        For(time, TimeSpan.FromTicks(Math.Clamp(limit.Ticks / 4, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerSecond)));

    /// <summary>Starts checking <paramref name="item"/> once per period.</summary>
    public void Add(IPeriodicCheck item)
    {
        lock (_lock)
        {
            if (!_sliceOf.TryAdd(item, _nextSlice))
            {
                return;
            }

            _slices[_nextSlice].Add(item);
            _nextSlice = (_nextSlice + 1) % Slices;
            if (_timer is null)
            {
                _spread = false;
                _timer = _time.CreateTimer(static state => ((SharedCheckTimer)state!).Tick(), this, _period, _period);
            }
            else if (!_spread && _sliceOf.Count > SpreadAbove)
            {
                Respace(spread: true);
            }
        }
    }

    /// <summary>Switches between a tick per slice and a tick per period; called under the lock.</summary>
    private void Respace(bool spread)
    {
        _spread = spread;
        var tick = spread ? _period / Slices : _period;
        _timer!.Change(tick, tick);
    }

    /// <summary>Stops checking <paramref name="item"/>; the last one out stops the timer.</summary>
    public void Remove(IPeriodicCheck item)
    {
        ITimer? stopped = null;
        lock (_lock)
        {
            if (_sliceOf.Remove(item, out var slice) && _slices[slice].Remove(item))
            {
                if (_sliceOf.Count == 0)
                {
                    (stopped, _timer) = (_timer, null);
                }
                else if (_spread && _sliceOf.Count < GatherBelow)
                {
                    Respace(spread: false);
                }
            }
        }

        stopped?.Dispose();
    }

    private void Tick()
    {
        // Checks run outside the lock: one may end a connection or a session, and items come and go meanwhile.
        IPeriodicCheck[] snapshot;
        int count;
        lock (_lock)
        {
            ICollection<IPeriodicCheck> due = _spread ? _slices[_tickSlice] : _sliceOf.Keys;
            _tickSlice = (_tickSlice + 1) % Slices;
            count = due.Count;
            if (count == 0)
            {
                return;
            }

            snapshot = ArrayPool<IPeriodicCheck>.Shared.Rent(count);
            due.CopyTo(snapshot, 0);
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
            ArrayPool<IPeriodicCheck>.Shared.Return(snapshot, clearArray: true);
        }
    }
}
