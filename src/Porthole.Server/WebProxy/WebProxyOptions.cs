namespace Porthole.Server.WebProxy;

/// <summary>The web proxy to device pages, bound from <c>Porthole:WebProxy</c> (docs/design/web-proxy.md).</summary>
public sealed class WebProxyOptions
{
    /// <summary>
    /// Session hosts are <c>&lt;id&gt;.&lt;Domain&gt;</c>, served by the console's own listener. Default: <c>localhost</c>
    /// (browsers resolve <c>*.localhost</c> to loopback). Production needs a wildcard DNS name and certificate.
    /// </summary>
    public string Domain { get; set; } = "localhost";

    /// <summary>
    /// The session origin as browsers reach it, with <c>*</c> for the session id, e.g.
    /// <c>https://*.devices.example.com</c> behind a TLS-terminating proxy. Default: none — the scheme and port of
    /// the request that opened the session, with <see cref="Domain"/>.
    /// </summary>
    public string? PublicOrigin { get; set; }

    /// <summary>A web session without a request for this long ends. Default: 30 minutes.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>No web session lives longer than this. Default: 8 hours.</summary>
    public TimeSpan MaxLifetime { get; set; } = TimeSpan.FromHours(8);

    /// <summary>How long the single-use ticket in a web session's URL stays valid. Default: 60 seconds.</summary>
    public TimeSpan TicketLifetime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Pooled tunnel connections one web session may hold to its device. Default: 6 (what browsers use per host).</summary>
    public int MaxConnectionsPerSession { get; set; } = 6;

    /// <summary>A pooled tunnel connection unused this long is closed. Default: 2 minutes.</summary>
    public TimeSpan ConnectionIdleTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Largest response body rewritten for absolute links; larger ones pass unchanged. Default: 16 MiB.</summary>
    public int RewriteBodyLimitBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Largest request body (e.g. a firmware upload) forwarded to a device; <c>null</c> for no limit. Default: 4 GiB.</summary>
    public long? MaxRequestBodyBytes { get; set; } = 4L * 1024 * 1024 * 1024;

    /// <summary>Fails fast with a message that says what to fix.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Domain) || Domain.StartsWith('.') || Domain.Contains('*', StringComparison.Ordinal) || Uri.CheckHostName(Domain) != UriHostNameType.Dns)
        {
            throw new InvalidOperationException("Porthole:WebProxy:Domain must be a DNS name such as 'localhost' or 'devices.example.com' (no wildcard, no leading dot).");
        }

        if (PublicOrigin is not null && (!PublicOrigin.Contains("://*.", StringComparison.Ordinal) || !Uri.TryCreate(PublicOrigin.Replace("*", "x", StringComparison.Ordinal), UriKind.Absolute, out _)))
        {
            throw new InvalidOperationException("Porthole:WebProxy:PublicOrigin must look like 'https://*.devices.example.com' (with '*' for the session id).");
        }

        if (IdleTimeout <= TimeSpan.Zero || MaxLifetime <= TimeSpan.Zero || TicketLifetime <= TimeSpan.Zero || ConnectionIdleTimeout <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("Porthole:WebProxy:IdleTimeout, MaxLifetime, TicketLifetime and ConnectionIdleTimeout must be positive.");
        }

        if (MaxConnectionsPerSession is < 1 or > 64)
        {
            throw new InvalidOperationException("Porthole:WebProxy:MaxConnectionsPerSession must be between 1 and 64.");
        }

        if (RewriteBodyLimitBytes < 0 || MaxRequestBodyBytes < 0)
        {
            throw new InvalidOperationException("Porthole:WebProxy:RewriteBodyLimitBytes and MaxRequestBodyBytes must not be negative.");
        }
    }
}
