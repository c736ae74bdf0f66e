using System.Threading.RateLimiting;

namespace Porthole.Server.Identity;

/// <summary>
/// Failed logins per username, counted by a partitioned token bucket (System.Threading.RateLimiting): each
/// failure takes a token; an empty bucket locks the user out until tokens refill. Per-client limits are the
/// <c>login</c> rate-limiting policy on the route.
/// </summary>
public sealed class LoginThrottle : IDisposable
{
    /// <summary>Failures allowed in a burst before a user is locked out.</summary>
    public const int AllowedFailures = 5;

    /// <summary>One failure is forgiven per period; a full lock-out lasts about <see cref="AllowedFailures"/> periods.</summary>
    public static readonly TimeSpan ForgivePeriod = TimeSpan.FromMinutes(1);

    private readonly PartitionedRateLimiter<string> _failures = PartitionedRateLimiter.Create<string, string>(username =>
        RateLimitPartition.GetTokenBucketLimiter(username.ToUpperInvariant(), _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = AllowedFailures,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = ForgivePeriod,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    /// <summary>Whether the user is locked out now.</summary>
    public bool IsLockedOut(string username) => (_failures.GetStatistics(username)?.CurrentAvailablePermits ?? AllowedFailures) <= 0;

    /// <summary>Counts one failure; returns how long the caller should be slowed down.</summary>
    public TimeSpan RecordFailure(string username)
    {
        using var lease = _failures.AttemptAcquire(username);
        var left = _failures.GetStatistics(username)?.CurrentAvailablePermits ?? AllowedFailures;

        // Slow down progressively: 0.2 s after the first failure, up to 1 s just before the lock-out.
        return TimeSpan.FromMilliseconds(200 * (AllowedFailures - left));
    }

    public void Dispose() => _failures.Dispose();
}
