using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Porthole.Tunnel.Transport;

/// <summary>
/// The certificate check <c>SslStream</c> does for a client, for connections whose TLS OpenSSL did
/// (<see cref="Tls.OpenSslClientStream"/>): the same chain policy, the same host-name rule, the same
/// <see cref="SslPolicyErrors"/>, and the same <see cref="ServerTrust"/> validator deciding
/// (docs/design/tls-data-plane.md, "OpenSSL in the agent and the CLI").
/// </summary>
public sealed class ServerCertificateCheck(RemoteCertificateValidationCallback validator, X509ChainPolicy? policy)
{
    // id-kp-serverAuth (RFC 5280 section 4.2.1.12), which SslStream asks of the server's chain.
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");

    /// <summary>The check of <paramref name="trust"/>.</summary>
    public static ServerCertificateCheck For(ServerTrust trust) => new(trust.CreateValidator(), trust.CreateChainPolicy());

    /// <summary>
    /// Whether <paramref name="certificate"/> names <paramref name="host"/>; a name the check cannot take (one .NET's
    /// URI rules refuse, or a certificate with a broken subjectAltName) is a mismatch, as SslStream reports it, not an
    /// exception.
    /// </summary>
    private static bool MatchesHost(X509Certificate2 certificate, string host)
    {
        try
        {
            return certificate.MatchesHostname(host);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            return false;
        }
    }

    /// <summary>
    /// Checks the server's <paramref name="certificates"/> (its own first, then the chain it sent) for
    /// <paramref name="host"/>, the name or address the client dialled.
    /// </summary>
    /// <exception cref="AuthenticationException">The validator refused the certificate.</exception>
    public void Verify(object sender, string host, X509Certificate2Collection certificates)
    {
        var errors = SslPolicyErrors.None;
        var certificate = certificates.Count > 0 ? certificates[0] : null;
        using var chain = new X509Chain();
        if (certificate is null)
        {
            errors |= SslPolicyErrors.RemoteCertificateNotAvailable;
        }
        else
        {
            if (policy is not null)
            {
                chain.ChainPolicy = policy.Clone();
            }
            else
            {
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                chain.ChainPolicy.ApplicationPolicy.Add(ServerAuthentication);
            }

            for (var i = 1; i < certificates.Count; i++)
            {
                chain.ChainPolicy.ExtraStore.Add(certificates[i]);
            }

            if (!chain.Build(certificate))
            {
                errors |= SslPolicyErrors.RemoteCertificateChainErrors;
            }

            // An IP address is matched against the certificate's IP address entries, a name against its DNS names.
            if (!MatchesHost(certificate, host.Trim('[', ']').TrimEnd('.')))
            {
                errors |= SslPolicyErrors.RemoteCertificateNameMismatch;
            }
        }

        if (!validator(sender, certificate, chain, errors))
        {
            // SslStream's words, so that a refusal reads the same whoever did the TLS.
            throw new AuthenticationException("The remote certificate was rejected by the provided RemoteCertificateValidationCallback.");
        }
    }
}
