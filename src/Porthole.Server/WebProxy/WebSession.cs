using Porthole.Protocol.Security;

namespace Porthole.Server.WebProxy;

/// <summary>
/// One user's access to one device web page: its own origin, its single-use entry ticket, the cookie that the
/// ticket is exchanged for, and the pooled tunnel connections to the device (<see cref="Invoker"/>).
/// </summary>
public sealed class WebSession(WebSessionInfo info, SessionOrigin origin, DeviceAddress device, DateTimeOffset createdAt) : IDisposable
{
    private readonly Lock _gate = new();
    private string? _ticketHash;
    private DateTimeOffset _ticketExpiresAt;
    private string? _cookieHash;
    private long _lastActivityTicks = createdAt.UtcTicks;
    private long _requests;
    private int _inFlight;
    private readonly CancellationTokenSource _ended = new();
    private long _bytesIn;
    private long _bytesOut;
    private string? _endReason;
    private Stream? _warm;
    private long _warmSince;
    private const long WarmConnectionMaxAgeMs = 15_000;

    public string Id => Info.Id;

    public WebSessionInfo Info { get; } = info;

    public string UserId => Info.UserId;

    public string DeviceId => Info.DeviceId;

    public SessionOrigin Origin { get; } = origin;

    public DeviceAddress Device { get; } = device;

    public DateTimeOffset CreatedAt { get; } = createdAt;

    public DateTimeOffset LastActivity => new(Interlocked.Read(ref _lastActivityTicks), TimeSpan.Zero);

    /// <summary>Forwards requests over this session's pooled tunnel connections; set once, right after creation.</summary>
    public HttpMessageInvoker Invoker { get; set; } = null!;

    /// <summary>This session's request and response rewriting; set once, right after creation.</summary>
    public Yarp.ReverseProxy.Forwarder.HttpTransformer Transformer { get; set; } = null!;

    /// <summary>Whether the proxy answers the device's basic/digest challenges with the vault's credential.</summary>
    public bool UsesStoredCredential { get; init; }

    /// <summary>The fingerprint of an HTTPS device's certificate once pinned (at creation, or on first use).</summary>
    public string? PinnedCertificate { get; set; }

    public long Requests => Interlocked.Read(ref _requests);

    public long BytesIn => Interlocked.Read(ref _bytesIn);

    public long BytesOut => Interlocked.Read(ref _bytesOut);

    /// <summary>Why the session ended, or <c>null</c> while it runs.</summary>
    public string? EndReason => Volatile.Read(ref _endReason);

    /// <summary>Issues a new entry ticket (replacing any earlier one); only its hash is kept.</summary>
    public string IssueTicket(DateTimeOffset expiresAt)
    {
        var ticket = SecretTokens.CreateId();
        lock (_gate)
        {
            _ticketHash = SecretTokens.Hash(ticket);
            _ticketExpiresAt = expiresAt;
        }

        return ticket;
    }

    /// <summary>Exchanges the ticket, once and before it expires, for the session cookie's secret.</summary>
    public TicketRedemption RedeemTicket(string ticket, DateTimeOffset now)
    {
        lock (_gate)
        {
            if (_ticketHash is null || !SecretTokens.FixedTimeEquals(SecretTokens.Hash(ticket), _ticketHash))
            {
                return new TicketRedemption(null, "this link is not valid (or was already used); open the device's web page again from Porthole");
            }

            _ticketHash = null;
            if (now > _ticketExpiresAt)
            {
                return new TicketRedemption(null, "this link has expired; open the device's web page again from Porthole");
            }

            var secret = SecretTokens.Create("");
            _cookieHash = SecretTokens.Hash(secret);
            return new TicketRedemption(secret, null);
        }
    }

    /// <summary>Whether the browser presented this session's cookie.</summary>
    public bool IsAuthorized(string? cookie)
    {
        var expected = Volatile.Read(ref _cookieHash);
        return cookie is { Length: > 0 } && expected is not null && SecretTokens.FixedTimeEquals(SecretTokens.Hash(cookie), expected);
    }

    public void RecordRequest(long bytesIn, long bytesOut, DateTimeOffset at)
    {
        Interlocked.Increment(ref _requests);
        Interlocked.Add(ref _bytesIn, bytesIn);
        Interlocked.Add(ref _bytesOut, bytesOut);
        Touch(at);
    }

    public void Touch(DateTimeOffset at) => Interlocked.Exchange(ref _lastActivityTicks, at.UtcTicks);

    /// <summary>Requests running through the session now.</summary>
    public int RequestsRunning => Volatile.Read(ref _inFlight);

    /// <summary>Cancelled when the session ends: requests still running (WebSockets, event streams, downloads) stop with it.</summary>
    public CancellationToken Ended => _ended.Token;

    /// <summary>
    /// Marks a request as running until the result is disposed. A session with a request running is not idle: an open
    /// WebSocket or event stream of a live panel keeps it, even when no new request comes for a long time.
    /// </summary>
    public RequestScope BeginRequest()
    {
        Interlocked.Increment(ref _inFlight);
        return new RequestScope(this);
    }

    /// <summary>Ends the running-request mark of <see cref="BeginRequest"/>.</summary>
    public readonly struct RequestScope(WebSession session) : IDisposable
    {
        public void Dispose() => Interlocked.Decrement(ref session._inFlight);
    }

    /// <summary>Why the session must end now (idle or too old), or <c>null</c>.</summary>
    public string? ExpiryReason(DateTimeOffset now, WebProxyOptions options)
    {
        if (now - CreatedAt >= options.MaxLifetime)
        {
            return $"web session reached its maximum lifetime of {options.MaxLifetime}";
        }

        var idle = Volatile.Read(ref _inFlight) == 0 && now - LastActivity >= options.IdleTimeout;
        return idle ? $"web session idle for {options.IdleTimeout}" : null;
    }

    /// <summary>Marks the session ended; returns <c>false</c> when it already was.</summary>
    public bool TryEnd(string reason) => Interlocked.CompareExchange(ref _endReason, reason, null) is null;

    /// <summary>
    /// Keeps the tunnel connection opened while creating the session (which proved the device reachable) for the
    /// first request, so opening the page costs no second tunnel set-up.
    /// </summary>
    public void KeepWarm(Stream connection)
    {
        _warmSince = Environment.TickCount64;
        Interlocked.Exchange(ref _warm, connection)?.Dispose();
    }

    /// <summary>
    /// The warm connection, if it is fresh: a device may drop a connection that carried no request for a while (nginx
    /// after its 60-second header timeout), and a request sent on a dropped new connection fails rather than retries.
    /// </summary>
    public Stream? TakeWarm()
    {
        var warm = Interlocked.Exchange(ref _warm, null);
        if (warm is not null && Environment.TickCount64 - _warmSince > WarmConnectionMaxAgeMs)
        {
            warm.Dispose();
            return null;
        }

        return warm;
    }

    /// <summary>Closes the pooled tunnel connections.</summary>
    public void Dispose()
    {
        _ended.Cancel();
        Invoker?.Dispose();
        TakeWarm()?.Dispose();
    }
}

/// <summary>Who opened a web session to what; fixed at creation.</summary>
public sealed record WebSessionInfo(
    string Id, string UserId, string Username, string DeviceId, string DeviceName, string EndpointId, string EndpointName, string Protocol, string? ClientAddress);

/// <summary>The cookie secret a ticket was exchanged for, or why it was refused.</summary>
public readonly record struct TicketRedemption(string? CookieSecret, string? Error);

/// <summary>The cookie that admits a browser to one web session's origin.</summary>
public static class WebSessionCookie
{
    /// <summary><c>__Host-</c>: browsers only accept it Secure, host-only, with <c>Path=/</c> (RFC 6265bis section 4.1.3.2).</summary>
    public const string Name = "__Host-porthole-web";

    /// <summary>The name on a plain-HTTP session origin, where the <c>__Host-</c> prefix (which needs Secure) cannot be used.</summary>
    public const string PlainName = "porthole_web";
}
