using System.Collections.Concurrent;
using System.Net.Security;
using Microsoft.AspNetCore.Connections.Features;

namespace Porthole.Server.Http;

/// <summary>
/// Closes a TLS connection, before its first request is handled, when its handshake settled on a suite that is not a
/// forward-secret AEAD one (a TLS 1.2 CBC or static-RSA suite). The server sets no cipher-suite list, because .NET
/// then gives every handshake an OpenSSL context of its own (≈0.45 ms of CPU per handshake, no resumption, 18 KiB more
/// per idle connection; docs/performance.md, ab/19), and OpenSSL's defaults as .NET uses them still accept CBC
/// suites over TLS 1.2. Every client that offers an AEAD suite gets one (TLS 1.3 has only AEAD suites; OpenSSL ranks
/// GCM and ChaCha20-Poly1305 first); one that offers nothing else is refused here instead of in the handshake.
/// </summary>
public sealed partial class TlsSuiteGuardMiddleware(RequestDelegate next, ILogger<TlsSuiteGuardMiddleware> logger)
{
    private static readonly object ConnectionMarker = new();
    private static readonly ConcurrentDictionary<TlsCipherSuite, bool> Verdicts = new();

    public Task InvokeAsync(HttpContext context)
    {
        if (context.Features.Get<ITlsHandshakeFeature>()?.NegotiatedCipherSuite is { } suite && context.FirstOnConnection(ConnectionMarker)
            && !Verdicts.GetOrAdd(suite, IsForwardSecretAead))
        {
            Refused(logger, suite.ToString(), context.Connection.RemoteIpAddress?.ToString() ?? "");
            context.Abort();
            return Task.CompletedTask;
        }

        return next(context);
    }

    /// <summary>AEAD (GCM, CCM, ChaCha20-Poly1305) and forward secret (ephemeral key exchange; every TLS 1.3 suite is both).</summary>
    internal static bool IsForwardSecretAead(TlsCipherSuite suite)
    {
        var name = suite.ToString();
        var aead = name.Contains("_GCM_", StringComparison.Ordinal) || name.Contains("_CCM", StringComparison.Ordinal) || name.Contains("CHACHA20_POLY1305", StringComparison.Ordinal);
        var tls13 = !name.Contains("_WITH_", StringComparison.Ordinal);
        var forwardSecret = tls13 || name.StartsWith("TLS_ECDHE_", StringComparison.Ordinal) || name.StartsWith("TLS_DHE_", StringComparison.Ordinal);
        return aead && forwardSecret;
    }

    [LoggerMessage(EventId = 32, Level = LogLevel.Warning, Message = "TLS connection from {Address} closed: it negotiated {Suite}, which is not a forward-secret AEAD suite")]
    private static partial void Refused(ILogger logger, string suite, string address);
}
