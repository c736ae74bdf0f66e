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
    public async Task ManyStreams_ShareOneTimer_AndEachIsJudgedOnItsOwn()
    {
        var time = new CountingTimeProvider();
        var pairs = new List<SocketPair>();
        var streams = new List<SilentPeerStream>();
        for (var i = 0; i < 20; i++)
        {
            var pair = await SocketPair.CreateAsync();
            pairs.Add(pair);
            streams.Add(new SilentPeerStream(pair.LeftStream, OneSecond, time));
        }

        try
        {
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
        finally
        {
            foreach (var stream in streams)
            {
                await stream.DisposeAsync();
            }

            foreach (var pair in pairs)
            {
                pair.Dispose();
            }
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
}
