namespace Porthole.Server.Identity;

/// <summary>
/// A token bucket per key (a username, a client address), refilled continuously and brought up to date only when its
/// key is used, so nothing runs while nobody logs in. It replaced System.Threading.RateLimiting's partitioned limiters,
/// whose 100 ms timer each woke the thread pool 20 times a second on an idle server (docs/performance.md, "Timer
/// ticks"). Keys whose bucket has refilled are forgotten now and then, which is all a full bucket would remember.
/// </summary>
/// <param name="capacity">Tokens a full bucket holds: the burst allowed.</param>
/// <param name="tokenEvery">How long one token takes to come back.</param>
/// <param name="time">The clock (a fake one in tests).</param>
public sealed class TokenBuckets(int capacity, TimeSpan tokenEvery, TimeProvider time)
{
    /// <summary>How many keys are held before the full ones are first swept out.</summary>
    private const int SweepAbove = 4096;

    private readonly Dictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    // The next sweep waits until the keys have doubled since the last one: keys from many addresses that are all still
    // refilling survive a sweep, and sweeping them again on every attempt would make each attempt cost them all.
    private int _sweepAt = SweepAbove;

    /// <summary>How many keys are remembered (for tests).</summary>
    internal int KeyCount
    {
        get
        {
            lock (_lock)
            {
                return _buckets.Count;
            }
        }
    }

    /// <summary>The tokens in <paramref name="key"/>'s bucket now (whole ones; a fresh key's bucket is full).</summary>
    public int Available(string key)
    {
        lock (_lock)
        {
            return (int)Refill(key, time.GetTimestamp()).Tokens;
        }
    }

    /// <summary>Takes a token from <paramref name="key"/>'s bucket if it has one; returns whether it did.</summary>
    public bool TryTake(string key)
    {
        lock (_lock)
        {
            var now = time.GetTimestamp();
            var bucket = Refill(key, now);
            if (bucket.Tokens < 1)
            {
                return false;
            }

            if (_buckets.Count >= _sweepAt)
            {
                Sweep(now);
                _sweepAt = Math.Max(SweepAbove, 2 * _buckets.Count);
            }

            _buckets[key] = bucket with { Tokens = bucket.Tokens - 1 };
            return true;
        }
    }

    /// <summary>The bucket of <paramref name="key"/> as of <paramref name="now"/>; under the lock.</summary>
    private Bucket Refill(string key, long now)
    {
        if (!_buckets.TryGetValue(key, out var bucket))
        {
            return new Bucket(capacity, now);
        }

        var refilled = bucket.Tokens + time.GetElapsedTime(bucket.At, now) / tokenEvery;
        return new Bucket(Math.Min(capacity, refilled), now);
    }

    private void Sweep(long now)
    {
        foreach (var key in _buckets.Keys.ToList())
        {
            if (Refill(key, now).Tokens >= capacity)
            {
                _buckets.Remove(key);
            }
        }
    }

    private readonly record struct Bucket(double Tokens, long At);
}
