using Microsoft.Extensions.Time.Testing;
using Porthole.Tunnel.Transport;
using Porthole.Tunnel.Tests.Support;

namespace Porthole.Tunnel.Tests.Transport;

/// <summary>Dead-peer detection under a WebSocket: silence while waiting to read ends it; back-pressure never does.</summary>
public sealed class SilentPeerStreamTests
{
    private static readonly KeepAliveSettings OneSecond = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));

    [Fact]
    public async Task Read_WhenNothingArrivesWithinIntervalPlusTimeout_FailsWithPeerSilent()
    {
        using var pair = await SocketPair.CreateAsync();
        var time = new FakeTimeProvider();
        await using var watched = new SilentPeerStream(pair.LeftStream, OneSecond, time);

        var read = watched.ReadAsync(new byte[16]).AsTask();
        time.Advance(TimeSpan.FromSeconds(1.9));
        Assert.False(read.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(0.6));

        var error = await Assert.ThrowsAsync<PeerSilentException>(() => read.WaitAsync(Timeouts.Short));
        Assert.Equal("no answer to keep-alive pings for 2 s", error.Message);
    }

    [Fact]
    public async Task NoReadPending_AsUnderBackPressure_IsNeverTakenForDeath()
    {
        using var pair = await SocketPair.CreateAsync();
        var time = new FakeTimeProvider();
        await using var watched = new SilentPeerStream(pair.LeftStream, OneSecond, time);

        // Nobody reads for an hour (the other leg is slow); the peer's bytes wait in the socket.
        await pair.RightStream.WriteAsync(new byte[] { 1, 2, 3 });
        for (var i = 0; i < 60; i++)
        {
            time.Advance(TimeSpan.FromMinutes(1));
        }

        var buffer = new byte[16];
        Assert.Equal(3, await watched.ReadAsync(buffer).AsTask().WaitAsync(Timeouts.Short));
    }

    [Fact]
    public async Task BytesArrivingWithinTheLimit_KeepTheConnectionAlive()
    {
        using var pair = await SocketPair.CreateAsync();
        var time = new FakeTimeProvider();
        await using var watched = new SilentPeerStream(pair.LeftStream, OneSecond, time);
        var buffer = new byte[16];

        // Three waits of 1.5 s each: 4.5 s in all, but never 2 s of silence while reading.
        for (var i = 0; i < 3; i++)
        {
            var read = watched.ReadAsync(buffer).AsTask();
            time.Advance(TimeSpan.FromSeconds(1.5));
            await pair.RightStream.WriteAsync(new byte[] { 42 });
            Assert.Equal(1, await read.WaitAsync(Timeouts.Short));
        }
    }

    [Fact]
    public async Task ReadsWithACallersToken_EndOnItsCancellation_OrOnSilence_AndTheSameTokenServesReadAfterRead()
    {
        using var pair = await SocketPair.CreateAsync();
        var time = new FakeTimeProvider();
        await using var watched = new SilentPeerStream(pair.LeftStream, OneSecond, time);
        var buffer = new byte[16];
        using var stop = new CancellationTokenSource();

        // One token, read after read, as the streams connection's reader passes its stop token.
        for (var i = 0; i < 3; i++)
        {
            var read = watched.ReadAsync(buffer, stop.Token).AsTask();
            await pair.RightStream.WriteAsync(new byte[] { 7 });
            Assert.Equal(1, await read.WaitAsync(Timeouts.Short));
        }

        // Another caller's token ends its own read, and a read with the first token works again after it.
        using (var other = new CancellationTokenSource())
        {
            var cancelled = watched.ReadAsync(buffer, other.Token).AsTask();
            await other.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Timeouts.Short));
        }

        var again = watched.ReadAsync(buffer, stop.Token).AsTask();
        await pair.RightStream.WriteAsync(new byte[] { 8 });
        Assert.Equal(1, await again.WaitAsync(Timeouts.Short));

        // Silence still ends a read whose caller's token is live.
        var silent = watched.ReadAsync(buffer, stop.Token).AsTask();
        time.Advance(TimeSpan.FromSeconds(2.5));
        await Assert.ThrowsAsync<PeerSilentException>(() => silent.WaitAsync(Timeouts.Short));
    }

    [Fact]
    public async Task AfterSilence_WritesFailToo()
    {
        using var pair = await SocketPair.CreateAsync();
        var time = new FakeTimeProvider();
        await using var watched = new SilentPeerStream(pair.LeftStream, OneSecond, time);
        var read = watched.ReadAsync(new byte[16]).AsTask();
        time.Advance(TimeSpan.FromSeconds(3));
        await Assert.ThrowsAsync<PeerSilentException>(() => read.WaitAsync(Timeouts.Short));

        await Assert.ThrowsAsync<PeerSilentException>(() => watched.WriteAsync(new byte[] { 1 }).AsTask());
    }

    [Fact]
    public async Task ManyStreams_AreCheckedASliceAtATime_SoSilentPeersAreFoundSpreadOverOnePeriod()
    {
        // 80 streams (more than the 64 a timer checks all at once) start waiting at the same instant on silent peers.
        // Their silence limit (2 s) passes for all of them at once, but each tick of the shared timer checks one slice
        // of them: on a server, the keep-alive pings those checks send then leave spread over the period instead of in
        // one burst (issue 7).
        var time = new FakeTimeProvider();
        await using var watched = await WatchedStreams.CreateAsync(80, time);
        var reads = watched.Streams.Select(stream => stream.ReadAsync(new byte[16]).AsTask()).ToList();
        var period = TimeSpan.FromSeconds(0.5); // a quarter of the silence limit
        var tick = period / 16;

        time.Advance(TimeSpan.FromSeconds(2) - tick);
        await Task.Delay(50);
        Assert.DoesNotContain(reads, read => read.IsCompleted);

        // The first tick past the limit finds only its own slice's streams (80 / 16 = 5).
        time.Advance(tick);
        var first = await CompletedAsync(reads, atLeast: 1);
        Assert.InRange(first, 1, 10);

        // Within one period, every slice has had its tick.
        time.Advance(period);
        Assert.Equal(80, await CompletedAsync(reads, atLeast: 80));
        foreach (var read in reads)
        {
            await Assert.ThrowsAsync<PeerSilentException>(() => read);
        }

        static async Task<int> CompletedAsync(List<Task<int>> reads, int atLeast)
        {
            // A failed read completes on the thread pool just after the check: wait for the expected ones, then a
            // moment more, so that a read which should not have failed would be counted.
            var deadline = DateTime.UtcNow + Timeouts.Short;
            while (reads.Count(read => read.IsCompleted) < atLeast && DateTime.UtcNow < deadline)
            {
                await Task.Delay(10);
            }

            await Task.Delay(100);
            return reads.Count(read => read.IsCompleted);
        }
    }

    [Fact]
    public async Task ManyStreams_ShareOneTimer_AndEachIsJudgedOnItsOwn()
    {
        var time = new CountingTimeProvider();
        await using (var watched = await WatchedStreams.CreateAsync(20, time))
        {
            var (pairs, streams) = (watched.Pairs, watched.Streams);
            Assert.Equal(1, time.Created);

            // Stream 0 waits on a silent peer; stream 1 waits too but its peer answers in time; the rest do not read.
            var silent = streams[0].ReadAsync(new byte[16]).AsTask();
            var answered = streams[1].ReadAsync(new byte[16]).AsTask();
            time.Advance(TimeSpan.FromSeconds(1.5));
            await pairs[1].RightStream.WriteAsync(new byte[] { 42 });
            Assert.Equal(1, await answered.WaitAsync(Timeouts.Short));
            time.Advance(TimeSpan.FromSeconds(1));

            await Assert.ThrowsAsync<PeerSilentException>(() => silent.WaitAsync(Timeouts.Short));
            await pairs[2].RightStream.WriteAsync(new byte[] { 7 });
            Assert.Equal(1, await streams[2].ReadAsync(new byte[16]).AsTask().WaitAsync(Timeouts.Short));
        }

        // The last stream out stops the timer; the next one starts a new one.
        Assert.Equal(1, time.Disposed);
        using var next = await SocketPair.CreateAsync();
        await using var again = new SilentPeerStream(next.LeftStream, OneSecond, time);
        Assert.Equal(2, time.Created);
    }

    /// <summary>A fake clock that counts the timers made from it and how many were stopped.</summary>
    private sealed class CountingTimeProvider : FakeTimeProvider
    {
        private int _created;
        private int _disposed;

        public int Created => Volatile.Read(ref _created);

        public int Disposed => Volatile.Read(ref _disposed);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Interlocked.Increment(ref _created);
            return new CountedTimer(base.CreateTimer(callback, state, dueTime, period), this);
        }

        private sealed class CountedTimer(ITimer inner, CountingTimeProvider owner) : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => inner.Change(dueTime, period);

            public void Dispose()
            {
                Interlocked.Increment(ref owner._disposed);
                inner.Dispose();
            }

            public ValueTask DisposeAsync()
            {
                Dispose();
                return ValueTask.CompletedTask;
            }
        }
    }

    /// <summary>Streams watched on one clock, each over a socket pair whose right end plays the peer.</summary>
    [Fact]
    public async Task AFewStreams_AreCheckedTogether_OncePerPeriod()
    {
        // A handful of watched streams (an agent's, a CLI's) share one tick per period: every tick wakes the thread
        // pool, and sliced, a process holding three connections was woken sixteen times a second (docs/performance.md).
        var time = new FakeTimeProvider();
        await using var watched = await WatchedStreams.CreateAsync(8, time);
        var reads = watched.Streams.Select(stream => stream.ReadAsync(new byte[16]).AsTask()).ToList();

        // The check period is a quarter of the silence limit: ticks at 0.5, 1.0 and 1.5 s find nobody silent for 2 s; the one at 2.0 s finds all of them at once.
        time.Advance(TimeSpan.FromSeconds(2) - TimeSpan.FromMilliseconds(1));
        await Task.Delay(50);
        Assert.DoesNotContain(reads, read => read.IsCompleted);

        time.Advance(TimeSpan.FromMilliseconds(1));
        await Task.WhenAll(reads.Select(read => Assert.ThrowsAsync<PeerSilentException>(() => read.WaitAsync(Timeouts.Short))));
    }

    private sealed class WatchedStreams : IAsyncDisposable
    {
        public List<SocketPair> Pairs { get; } = [];

        public List<SilentPeerStream> Streams { get; } = [];

        public static async Task<WatchedStreams> CreateAsync(int count, TimeProvider time)
        {
            var watched = new WatchedStreams();
            for (var i = 0; i < count; i++)
            {
                var pair = await SocketPair.CreateAsync();
                watched.Pairs.Add(pair);
                watched.Streams.Add(new SilentPeerStream(pair.LeftStream, OneSecond, time));
            }

            return watched;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var stream in Streams)
            {
                await stream.DisposeAsync();
            }

            foreach (var pair in Pairs)
            {
                pair.Dispose();
            }
        }
    }
}
