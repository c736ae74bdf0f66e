using Microsoft.Extensions.Time.Testing;
using Porthole.Server.Identity;

namespace Porthole.Server.Tests;

/// <summary>The timer-free token buckets behind the login throttle.</summary>
public sealed class TokenBucketsTests
{
    [Fact]
    public void AFreshKey_HasAFullBucket_AndEmptiesAfterItsCapacity()
    {
        var buckets = new TokenBuckets(3, TimeSpan.FromSeconds(20), new FakeTimeProvider());

        Assert.Equal(3, buckets.Available("client"));
        Assert.True(buckets.TryTake("client"));
        Assert.True(buckets.TryTake("client"));
        Assert.True(buckets.TryTake("client"));
        Assert.False(buckets.TryTake("client"));
        Assert.Equal(0, buckets.Available("client"));

        // Keys do not share a bucket.
        Assert.True(buckets.TryTake("other"));
    }

    [Fact]
    public void Tokens_ComeBackOneAPeriod_NeverBeyondTheCapacity()
    {
        var time = new FakeTimeProvider();
        var buckets = new TokenBuckets(3, TimeSpan.FromSeconds(20), time);
        while (buckets.TryTake("client"))
        {
        }

        time.Advance(TimeSpan.FromSeconds(19));
        Assert.False(buckets.TryTake("client"));

        // The refusal did not reset the clock: one token is back 20 s after the last one was taken.
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(buckets.TryTake("client"));
        Assert.False(buckets.TryTake("client"));

        time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(3, buckets.Available("client"));
    }

    [Fact]
    public void ManyKeys_AreSweptOnceRefilled_WithoutForgettingTheEmptyOnes()
    {
        var time = new FakeTimeProvider();
        var buckets = new TokenBuckets(1, TimeSpan.FromMinutes(1), time);
        TakeOneFromEachAddress(buckets, 0, 4095);

        time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(buckets.TryTake("guesser"));
        Assert.Equal(4096, buckets.KeyCount);

        // The next new key finds 4 096 held: the refilled ones go, the guesser's empty bucket stays.
        Assert.True(buckets.TryTake("newcomer"));
        Assert.Equal(2, buckets.KeyCount);
        Assert.False(buckets.TryTake("guesser"));
        Assert.Equal(1, buckets.Available("address-0"));
    }

    [Fact]
    public void KeysThatAreAllRefilling_SurviveASweep_AndTheNextWaitsUntilTheyHaveDoubled()
    {
        var time = new FakeTimeProvider();
        var buckets = new TokenBuckets(1, TimeSpan.FromMinutes(1), time);
        TakeOneFromEachAddress(buckets, 0, 4096);

        // Nobody has refilled: the sweep at 4 096 keeps them all, and the attempts after it do not sweep again.
        Assert.True(buckets.TryTake("address-4096"));
        Assert.Equal(4097, buckets.KeyCount);
        time.Advance(TimeSpan.FromMinutes(1));
        TakeOneFromEachAddress(buckets, 4097, 8192);

        Assert.Equal(8192, buckets.KeyCount);

        // At 8 192 the next sweep comes, and by now the first 4 097 have refilled.
        Assert.True(buckets.TryTake("late"));
        Assert.Equal(4096, buckets.KeyCount);
    }

    /// <summary>Takes the one token of each of the addresses numbered <paramref name="from"/> to <paramref name="to"/> (exclusive), all new keys.</summary>
    private static void TakeOneFromEachAddress(TokenBuckets buckets, int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            Assert.True(buckets.TryTake("address-" + i));
        }
    }
}
