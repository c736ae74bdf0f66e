using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Porthole.Tunnel.Tests.Support;

/// <summary>Throw-away ECDSA P-256 certificates with their private keys.</summary>
internal static class TestCertificates
{
    public static X509Certificate2 SelfSigned(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new CertificateRequest(subject, key, HashAlgorithmName.SHA256).CreateSelfSigned(NotBefore, NotAfter);
    }

    /// <summary>
    /// A self-signed certificate authority that can issue others (<see cref="CertificateRequest.Create(X509Certificate2, DateTimeOffset, DateTimeOffset, byte[])"/>);
    /// valid from a day ago for two, so that any test certificate it issues falls inside its own validity.
    /// </summary>
    public static X509Certificate2 Authority(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
    }

    private static DateTimeOffset NotBefore => DateTimeOffset.UtcNow.AddMinutes(-5);

    private static DateTimeOffset NotAfter => DateTimeOffset.UtcNow.AddDays(1);
}
