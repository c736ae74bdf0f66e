namespace Porthole.Server.Hosting;

/// <summary>
/// Kestrel limits, bound from <c>Porthole:Http</c> and set explicitly so an operator can see and change them (issue 8,
/// "Limits and timeouts"). They guard the HTTP layer before any Porthole code runs: slow-header clients
/// (slowloris), oversized headers, idle keep-alive connections.
/// </summary>
public sealed class HttpLimitsOptions
{
    public const string SectionName = "Porthole:Http";

    /// <summary>Time a client has to send all request headers; a slower one gets 408 and is disconnected. Default: 30 seconds.</summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest total size of a request's headers; larger gets 431. Default: 32 KiB.</summary>
    public int MaxRequestHeadersTotalSize { get; set; } = 32 * 1024;

    /// <summary>Largest request line (method, path and query); longer gets 414. Default: 8 KiB.</summary>
    public int MaxRequestLineSize { get; set; } = 8 * 1024;

    /// <summary>An HTTP connection with no request in flight is closed after this long. WebSockets are not affected (keep-alive pings). Default: 2 minutes.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Largest request body the API accepts; every API body is small JSON. Default: 1 MiB.</summary>
    public long MaxRequestBodySize { get; set; } = 1024 * 1024;

    /// <summary>Fails fast with a message that says what to fix.</summary>
    public void Validate()
    {
        if (RequestHeadersTimeout < TimeSpan.FromSeconds(1) || RequestHeadersTimeout > TimeSpan.FromMinutes(5))
        {
            throw new InvalidOperationException("Porthole:Http:RequestHeadersTimeout must be between 1 second and 5 minutes.");
        }

        if (KeepAliveTimeout < TimeSpan.FromSeconds(1) || KeepAliveTimeout > TimeSpan.FromHours(1))
        {
            throw new InvalidOperationException("Porthole:Http:KeepAliveTimeout must be between 1 second and 1 hour.");
        }

        if (MaxRequestHeadersTotalSize < 4096 || MaxRequestLineSize < 1024 || MaxRequestBodySize < 64 * 1024)
        {
            throw new InvalidOperationException("Porthole:Http: MaxRequestHeadersTotalSize must be at least 4096, MaxRequestLineSize at least 1024 and MaxRequestBodySize at least 65536 bytes.");
        }
    }
}
