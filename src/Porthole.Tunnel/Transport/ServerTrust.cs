using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Porthole.Protocol.Security;

namespace Porthole.Tunnel.Transport;

/// <summary>
/// How a client (CLI or agent) decides to trust the server's TLS certificate: a pinned SHA-256 fingerprint,
/// a private CA certificate, the system's roots, or nothing at all (<c>--insecure</c>).
/// </summary>
public sealed record ServerTrust(string? Fingerprint = null, string? CaCertificatePath = null, bool Insecure = false)
{
    /// <summary>How long a new connection to the server may take, TCP and TLS handshake together.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(15);

    /// <summary>The system's roots and the usual host-name checks.</summary>
    public static ServerTrust System { get; } = new();

    /// <summary>Builds the validation callback for this trust decision.</summary>
    public RemoteCertificateValidationCallback CreateValidator()
    {
        if (Insecure)
        {
            return static (_, _, _, _) => true;
        }

        if (Fingerprint is not null)
        {
            var pinned = CertificateFingerprint.Normalize(Fingerprint)
                ?? throw new ArgumentException("the fingerprint must be 64 hex digits (SHA-256), colons optional");

            // A pin names one exact certificate, so host name and chain do not matter (the server's default
            // certificate is self-signed and names 127.0.0.1/localhost only).
            return (_, certificate, _, _) => certificate is not null && CertificateFingerprint.Matches(new X509Certificate2(certificate), pinned);
        }

        if (CaCertificatePath is not null)
        {
            var ca = X509CertificateLoader.LoadCertificateFromFile(CaCertificatePath);
            return (_, certificate, _, errors) =>
            {
                if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
                {
                    return false;
                }

                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(new X509Certificate2(certificate));
            };
        }

        return static (_, _, _, errors) => errors == SslPolicyErrors.None;
    }

    /// <summary>
    /// The policy of the chain .NET builds before it calls the validator; <c>null</c> (the system's roots) when the
    /// chain is the decision. A pin or <c>--insecure</c> ignores that chain, and a private CA is checked by the
    /// validator's own chain, so for them it is built against the CA alone or against nothing: built against the
    /// system's roots, on Linux, it copies every root into a fresh OpenSSL store on each handshake — ≈0.5 ms of CPU per
    /// connection in the agent and in the CLI (bench/results/ab/13-setup-cpu.md).
    /// </summary>
    public X509ChainPolicy? CreateChainPolicy()
    {
        if (!Insecure && Fingerprint is null && CaCertificatePath is null)
        {
            return null;
        }

        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
        };
        if (!Insecure && Fingerprint is null)
        {
            policy.CustomTrustStore.Add(X509CertificateLoader.LoadCertificateFromFile(CaCertificatePath!));
        }

        return policy;
    }

    /// <summary>
    /// An HTTP handler for REST calls and WebSocket connects. It honours <c>HTTPS_PROXY</c>/<c>NO_PROXY</c>
    /// (the default proxy reads them) and tunnels through the proxy with HTTP CONNECT. Its TLS is OpenSSL's on the
    /// socket or <c>SslStream</c>'s, as <c>PORTHOLE_CLIENT_TLS</c> says (<see cref="ClientTls"/>); the certificate
    /// check is this trust's either way.
    /// </summary>
    /// <exception cref="ArgumentException"><c>PORTHOLE_CLIENT_TLS</c> holds something else than its three names.</exception>
    /// <exception cref="InvalidOperationException"><c>PORTHOLE_CLIENT_TLS=OpenSsl</c>, and libssl 3 cannot be used here.</exception>
    public HttpMessageHandler CreateHandler() => CreateHandler(ClientTls.FromEnvironment());

    /// <inheritdoc cref="CreateHandler()"/>
    public HttpMessageHandler CreateHandler(ClientTlsChoice tls)
    {
        var standard = CreateSslStreamHandler();
        if (tls == ClientTlsChoice.SslStream || (tls == ClientTlsChoice.Auto && !Tls.OpenSslClientContext.IsSupported))
        {
            return standard;
        }

        try
        {
            return new ClientTlsHandler(ServerCertificateCheck.For(this), standard);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or InvalidOperationException)
        {
            if (tls == ClientTlsChoice.Auto)
            {
                return standard;
            }

            standard.Dispose();
            throw new InvalidOperationException($"{ClientTls.Variable}=OpenSsl, but libssl 3 cannot be used here: {ex.Message}", ex);
        }
    }

    /// <summary>The handler doing its own TLS with <c>SslStream</c>; also <see cref="ClientTlsHandler"/>'s for plain servers.</summary>
    private SocketsHttpHandler CreateSslStreamHandler() => new()
    {
        // No cipher-suite list here: a list set on a .NET client turns off its TLS session cache, so every connection
        // would pay a full handshake (HandlerTlsTests). The server sets none either, for the same reason (ServerHost).
        SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = CreateValidator(), CertificateChainPolicy = CreateChainPolicy() },
        UseProxy = true,
        UseCookies = false,
        AllowAutoRedirect = false,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        ConnectTimeout = ConnectTimeout,
        ConnectCallback = ConnectAsync,
    };

    /// <summary>
    /// Dials as the handler would (TCP_NODELAY, every address of the name in turn) and puts a <see cref="BatchingStream"/>
    /// under TLS, so a WebSocket frame leaves in one send, over a <see cref="ReadAheadStream"/>, so that a stream of TLS
    /// records arrives in a few large receives. With a proxy this dials the proxy.
    /// </summary>
    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
            return new BatchingStream(new ReadAheadStream(new NetworkStream(socket, ownsSocket: true)));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
