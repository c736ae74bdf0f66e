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
}
