using Microsoft.Extensions.Options;
using Porthole.Server.Hosting;

namespace Porthole.Server.Identity;

/// <summary>
/// Bounds password guessing two ways. Per username, failed logins: each takes a token, an empty bucket locks the user
/// out until tokens come back, one a minute. Per client address, attempts of any outcome on the password routes
/// (<see cref="TryStartAttempt"/>): <c>Porthole:LoginAttemptsPerClientPerMinute</c>, refilled evenly over the minute.
/// </summary>
public sealed class LoginThrottle(IOptions<PortholeServerOptions> options, TimeProvider time)
{
    /// <summary>Failures allowed in a burst before a user is locked out.</summary>
    public const int AllowedFailures = 5;

    /// <summary>One failure is forgiven per period; a full lock-out lasts about <see cref="AllowedFailures"/> periods.</summary>
    public static readonly TimeSpan ForgivePeriod = TimeSpan.FromMinutes(1);

    private readonly TokenBuckets _failures = new(AllowedFailures, ForgivePeriod, time);

    private readonly TokenBuckets _attempts = new(
        options.Value.LoginAttemptsPerClientPerMinute, TimeSpan.FromMinutes(1) / options.Value.LoginAttemptsPerClientPerMinute, time);

    /// <summary>Whether the user is locked out now.</summary>
    public bool IsLockedOut(string username) => _failures.Available(username.ToUpperInvariant()) <= 0;

    /// <summary>Counts one failure; returns how long the caller should be slowed down.</summary>
    public TimeSpan RecordFailure(string username)
    {
        var key = username.ToUpperInvariant();
        _failures.TryTake(key);

        // Slow down progressively: 0.2 s after the first failure, up to 1 s just before the lock-out.
        return TimeSpan.FromMilliseconds(200 * (AllowedFailures - _failures.Available(key)));
    }

    /// <summary>Takes one of the client address's attempts; false when it has none left.</summary>
    public bool TryStartAttempt(string? clientAddress) => _attempts.TryTake(clientAddress ?? "unknown");
}
