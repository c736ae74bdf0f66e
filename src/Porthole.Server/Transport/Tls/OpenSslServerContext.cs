using System.Net.Security;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using static Porthole.Tunnel.Tls.OpenSslCalls;

namespace Porthole.Server.Transport.Tls;

/// <summary>
/// The server's OpenSSL context (<c>SSL_CTX</c>) for <see cref="OpenSslSession"/>s: the same certificate, chain,
/// protocols and ALPN as the transport's <see cref="SslStream"/> options, so a client cannot tell which of the two
/// it talks to (docs/design/tls-data-plane.md, "OpenSSL on the socket"). One per transport, for its lifetime.
/// </summary>
internal sealed unsafe class OpenSslServerContext : IDisposable
{
    // ALPN in wire format, in the server's order of preference: h2, then http/1.1. Native memory, because OpenSSL's
    // selection points into it after the callback has returned.
    private static readonly byte* ServerProtocols = AllocateProtocols();
    private static readonly uint ServerProtocolsLength = 12;

    // AES-128-GCM is ≈9 % faster than AES-256-GCM on this class of CPU (`openssl speed`, ab/09) and just as sound for
    // a session key; ChaCha20 for clients without AES instructions. TLS 1.2: ECDHE with either kind of certificate.
    private const string Tls13Suites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
    private const string Tls12Suites =
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" +
        "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

    private nint _context;

    private OpenSslServerContext(nint context) => _context = context;

    /// <summary>Whether libssl 3 can be loaded here (where it cannot, the transport keeps <see cref="SslStream"/>).</summary>
    public static bool IsSupported { get; } = OperatingSystem.IsLinux() && NativeLibrary.TryLoad(LibSsl, out _) && NativeLibrary.TryLoad("libcrypto.so.3", out _);

    internal nint Handle => _context;

    /// <summary>A context serving <paramref name="certificate"/>'s certificate and intermediates with its private key.</summary>
    /// <exception cref="InvalidOperationException">OpenSSL refused the certificate or the key; the message says why.</exception>
    public static OpenSslServerContext Create(SslStreamCertificateContext certificate)
    {
        ERR_clear_error();
        var context = SSL_CTX_new(TLS_server_method());
        if (context == 0)
        {
            throw new InvalidOperationException("OpenSSL could not create a TLS context: " + TakeError("no reason given"));
        }

        var created = new OpenSslServerContext(context);
        try
        {
            created.Configure(certificate);
            return created;
        }
        catch
        {
            created.Dispose();
            throw;
        }
    }

    private void Configure(SslStreamCertificateContext certificate)
    {
        SSL_CTX_set_options(_context, OptionNoCompression | OptionNoRenegotiation | OptionIgnoreUnexpectedEof | OptionCipherServerPreference);
        Require(SSL_CTX_ctrl(_context, CtrlSetMinProtoVersion, Tls12Version, 0) == 1, "set TLS 1.2 as the lowest version");

        // AEAD suites only, AES-128-GCM first, in the server's order. Under SslStream a list cost every handshake an
        // OpenSSL context of its own (ab/19), so that path leaves OpenSSL's defaults and refuses other suites at the
        // first request (TlsSuiteGuardMiddleware); here the one context has the list, and the handshake refuses them.
        Require(SSL_CTX_set_ciphersuites(_context, Tls13Suites) == 1, "set the TLS 1.3 cipher suites");
        Require(SSL_CTX_set_cipher_list(_context, Tls12Suites) == 1, "set the TLS 1.2 cipher suites");

        // Partial writes, so a full socket leaves a send resumable one record at a time; a moving buffer, because the
        // retry may come from another pipe segment's copy; released buffers, so an idle connection holds none.
        SSL_CTX_ctrl(_context, CtrlMode, ModeEnablePartialWrite | ModeAcceptMovingWriteBuffer | ModeReleaseBuffers, 0);

        // Read-ahead: one receive takes as many records as have arrived (into a buffer of one record's size until the
        // connection carries a relay: OpenSslSession.UseLargeReads).
        SSL_CTX_ctrl(_context, CtrlSetReadAhead, 1, 0);
        SSL_CTX_set_alpn_select_cb(_context, &SelectProtocol, 0);

        UseCertificate(certificate.TargetCertificate, chain: false);
        foreach (var intermediate in certificate.IntermediateCertificates)
        {
            UseCertificate(intermediate, chain: true);
        }

        UsePrivateKey(certificate.TargetCertificate);
    }

    private void UseCertificate(X509Certificate2 certificate, bool chain)
    {
        var der = certificate.RawData;
        fixed (byte* start = der)
        {
            var cursor = start;
            var x509 = d2i_X509(0, &cursor, der.Length);
            Require(x509 != 0, "read the certificate");

            // SSL_CTX_use_certificate takes its own reference; SSL_CTX_add0_chain_cert (ctrl 89, 0) takes ours.
            if (chain)
            {
                if (SSL_CTX_ctrl(_context, CtrlChainCert, 0, x509) != 1)
                {
                    X509_free(x509);
                    Require(false, "add an intermediate certificate");
                }

                return;
            }

            var used = SSL_CTX_use_certificate(_context, x509);
            X509_free(x509);
            Require(used == 1, "use the certificate");
        }
    }

    private void UsePrivateKey(X509Certificate2 certificate)
    {
        using AsymmetricAlgorithm key = (AsymmetricAlgorithm?)certificate.GetECDsaPrivateKey() ?? certificate.GetRSAPrivateKey()
            ?? throw new InvalidOperationException("the TLS certificate has no ECDSA or RSA private key");
        var pkcs8 = key.ExportPkcs8PrivateKey();
        try
        {
            fixed (byte* start = pkcs8)
            {
                var cursor = start;
                var pkey = d2i_AutoPrivateKey(0, &cursor, pkcs8.Length);
                Require(pkey != 0, "read the private key");
                var used = SSL_CTX_use_PrivateKey(_context, pkey);
                EVP_PKEY_free(pkey);
                Require(used == 1, "use the private key");
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }

        Require(SSL_CTX_check_private_key(_context) == 1, "match the private key to the certificate");
    }

    private static void Require(bool done, string what)
    {
        if (!done)
        {
            throw new InvalidOperationException($"OpenSSL could not {what}: {TakeError("no reason given")}");
        }
    }

    /// <summary>ALPN: the first of the server's protocols the client offers; none (and no ALPN answer) when it offers neither.</summary>
    [UnmanagedCallersOnly]
    private static int SelectProtocol(nint ssl, byte** output, byte* outputLength, byte* client, uint clientLength, nint argument)
    {
        var result = SSL_select_next_proto(output, outputLength, ServerProtocols, ServerProtocolsLength, client, clientLength);
        return result == NextProtocolNegotiated ? TlsExtensionOk : TlsExtensionNoAck;
    }

    private static byte* AllocateProtocols()
    {
        ReadOnlySpan<byte> wire = [2, (byte)'h', (byte)'2', 8, (byte)'h', (byte)'t', (byte)'t', (byte)'p', (byte)'/', (byte)'1', (byte)'.', (byte)'1'];
        var memory = (byte*)NativeMemory.Alloc((nuint)wire.Length);
        wire.CopyTo(new Span<byte>(memory, wire.Length));
        return memory;
    }

    public void Dispose()
    {
        if (_context != 0)
        {
            SSL_CTX_free(_context);
            _context = 0;
        }
    }
}
