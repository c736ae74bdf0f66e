namespace Porthole.Agent.Control;

/// <summary>
/// Exponential backoff with full jitter (a random delay between 0 and the current ceiling), so a fleet of
/// agents that lost the server at once does not reconnect in lock-step.
/// </summary>
public sealed class Backoff(TimeSpan initial, TimeSpan cap, Random? random = null)
{
    private readonly Random _random = random ?? Random.Shared;
    private int _attempt;

    /// <summary>The next delay; each call doubles the ceiling up to the cap.</summary>
    public TimeSpan Next()
    {
        var ceiling = Math.Min(cap.TotalMilliseconds, initial.TotalMilliseconds * Math.Pow(2, _attempt));
        _attempt = Math.Min(_attempt + 1, 30);
        return TimeSpan.FromMilliseconds(Math.Max(initial.TotalMilliseconds / 2, _random.NextDouble() * ceiling));
    }

    /// <summary>Called after a connection succeeded.</summary>
    public void Reset() => _attempt = 0;
}
