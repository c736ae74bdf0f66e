using Porthole.Agent.Control;

namespace Porthole.Agent.Tests;

/// <summary>Reconnect delays: exponential, capped at 60 s, jittered, reset after success.</summary>
public sealed class BackoffTests
{
    [Fact]
    public void Delays_GrowExponentially_AndStayUnderTheCap()
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60), new Random(7));

        var delays = Enumerable.Range(0, 20).Select(_ => backoff.Next()).ToList();

        Assert.All(delays, d => Assert.InRange(d, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(60)));
        Assert.True(delays.Skip(10).Average(d => d.TotalSeconds) > 10, "late delays should approach the cap");
        Assert.True(delays[0] <= TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void Delays_AreJittered()
    {
        var a = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60), new Random(1));
        var b = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60), new Random(2));

        Assert.NotEqual(Enumerable.Range(0, 8).Select(_ => a.Next()), Enumerable.Range(0, 8).Select(_ => b.Next()));
    }

    [Fact]
    public void Reset_StartsOverFromTheInitialDelay()
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60), new Random(3));
        for (var i = 0; i < 10; i++)
        {
            backoff.Next();
        }

        backoff.Reset();

        Assert.True(backoff.Next() <= TimeSpan.FromSeconds(1));
    }
}
