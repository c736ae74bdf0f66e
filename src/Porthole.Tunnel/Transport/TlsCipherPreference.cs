using System.Net.Security;

namespace Porthole.Tunnel.Transport;

/// <summary>
/// The TLS cipher suites the server accepts, fastest first. OpenSSL's own order puts AES-256-GCM first; AES-128-GCM is
/// as safe for our purpose and its 10 rounds instead of 14 make each of the chain's four encryption passes cheaper
/// (same-run A/B in docs/performance.md). The server's order decides a handshake (that is how .NET runs OpenSSL), so
/// the agent, the CLI and browsers all get it. The clients do not set the list themselves: on a .NET client a list
/// turns off the TLS session cache. Only where .NET supports setting the list (Linux); elsewhere the platform's default
/// stands.
/// </summary>
public static class TlsCipherPreference
{
    /// <summary>The suites in order of preference, or <c>null</c> for the platform's default.</summary>
    public static CipherSuitesPolicy? Policy { get; } = Create();

    private static CipherSuitesPolicy? Create()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        return new CipherSuitesPolicy(
        [
            // TLS 1.3
            TlsCipherSuite.TLS_AES_128_GCM_SHA256,
            TlsCipherSuite.TLS_AES_256_GCM_SHA384,
            TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,

            // TLS 1.2 (forward secret AEAD suites only), for servers behind a proxy that stops at 1.2
            TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        ]);
    }
}
