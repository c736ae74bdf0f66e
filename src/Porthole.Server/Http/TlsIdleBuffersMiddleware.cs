using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Porthole.Server.Http;

/// <summary>
/// Switches every TLS connection to releasing OpenSSL's record buffers while idle (<see cref="TlsIdleBuffers"/>),
/// before its first request is handled: a session's two WebSockets are TLS connections that sit idle for hours.
/// Runs only when <c>Porthole:TlsReleaseIdleBuffers</c> is on (the default). The mode belongs to the connection, so a
/// kept-alive connection's later requests skip the reflection and the native call (marked in the connection's items).
/// </summary>
public sealed partial class TlsIdleBuffersMiddleware(RequestDelegate next, ILogger<TlsIdleBuffersMiddleware> logger)
{
    private static readonly object ConnectionMarker = new();
    private static int _reported;

    public Task InvokeAsync(HttpContext context)
    {
        if (context.Features.Get<ISslStreamFeature>() is { } tls && context.FirstOnConnection(ConnectionMarker))
        {
            if (!TlsIdleBuffers.TryRelease(tls.SslStream) && Interlocked.Exchange(ref _reported, 1) == 0)
            {
                NotSupported(logger);
            }
        }

        return next(context);
    }

    [LoggerMessage(EventId = 31, Level = LogLevel.Information, Message = "TLS connections keep OpenSSL's record buffers while idle: this runtime offers no way to release them (Porthole:TlsReleaseIdleBuffers has no effect)")]
    private static partial void NotSupported(ILogger logger);
}
