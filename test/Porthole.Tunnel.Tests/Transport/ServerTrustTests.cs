using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Porthole.Protocol.Security;
using Porthole.Tunnel.Tests.Support;
using Porthole.Tunnel.Transport;
using Porthole.Tests.Common;

namespace Porthole.Tunnel.Tests.Transport;

public sealed class ServerTrustTests
{
    [Fact]
    public void Pinned_AcceptsThePinnedCertificateWhateverTheChainErrors()
    {
        using var pinned = TestCertificates.SelfSigned("CN=porthole-server");
        var validator = new ServerTrust(Fingerprint: CertificateFingerprint.Of(pinned)).CreateValidator();

        // A self-signed certificate for 127.0.0.1 fails chain and name checks; the pin alone decides.
        Assert.True(validator(new object(), pinned, null, SslPolicyErrors.RemoteCertificateChainErrors | SslPolicyErrors.RemoteCertificateNameMismatch));
        Assert.True(validator(new object(), pinned, null, SslPolicyErrors.None));
    }

    [Fact]
    public void Pinned_AcceptsPinWrittenInAnyAcceptedForm()
    {
        using var pinned = TestCertificates.SelfSigned("CN=porthole-server");
        var pin = "sha256:" + CertificateFingerprint.Of(pinned).Replace(":", "", StringComparison.Ordinal).ToLowerInvariant();

        var validator = new ServerTrust(Fingerprint: pin).CreateValidator();

        Assert.True(validator(new object(), pinned, null, SslPolicyErrors.RemoteCertificateChainErrors));
    }

    [Fact]
    public void Pinned_RejectsAnotherCertificate()
    {
        using var pinned = TestCertificates.SelfSigned("CN=porthole-server");
        using var impostor = TestCertificates.SelfSigned("CN=porthole-server");
        var validator = new ServerTrust(Fingerprint: CertificateFingerprint.Of(pinned)).CreateValidator();

        Assert.False(validator(new object(), impostor, null, SslPolicyErrors.None));
        Assert.False(validator(new object(), null, null, SslPolicyErrors.RemoteCertificateNotAvailable));
    }

    [Fact]
    public void Pinned_WithMalformedFingerprint_FailsFastWithReadableMessage()
    {
        var exception = Assert.Throws<ArgumentException>(() => new ServerTrust(Fingerprint: "abc").CreateValidator());

        Assert.Contains("64 hex digits", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Insecure_AcceptsAnything()
    {
        using var certificate = TestCertificates.SelfSigned("CN=anything");
        var validator = new ServerTrust(Insecure: true).CreateValidator();

        Assert.True(validator(new object(), certificate, null, SslPolicyErrors.RemoteCertificateChainErrors | SslPolicyErrors.RemoteCertificateNameMismatch));
    }

    [Fact]
    public void System_AcceptsOnlyWhenThePlatformFoundNoErrors()
    {
        using var certificate = TestCertificates.SelfSigned("CN=porthole-server");
        var validator = ServerTrust.System.CreateValidator();

        Assert.True(validator(new object(), certificate, null, SslPolicyErrors.None));
        Assert.False(validator(new object(), certificate, null, SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.False(validator(new object(), certificate, null, SslPolicyErrors.RemoteCertificateNameMismatch));
    }

    [Fact]
    public void CaCertificate_AcceptsCertificateIssuedByItAndRejectsOthers()
    {
        using var directory = new TempDirectory();
        using var ca = TestCertificates.Authority("CN=porthole-test-ca");
        var now = DateTimeOffset.UtcNow;
        var caPath = directory.WriteFile("ca.pem", ca.ExportCertificatePem());

        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var leafRequest = new CertificateRequest("CN=porthole.example", leafKey, HashAlgorithmName.SHA256);
        using var leaf = leafRequest.Create(ca, now.AddMinutes(-1), now.AddHours(12), [1, 2, 3, 4]);
        using var stranger = TestCertificates.SelfSigned("CN=porthole.example");

        var validator = new ServerTrust(CaCertificatePath: caPath).CreateValidator();

        Assert.True(validator(new object(), leaf, null, SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.False(validator(new object(), stranger, null, SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.False(validator(new object(), leaf, null, SslPolicyErrors.RemoteCertificateChainErrors | SslPolicyErrors.RemoteCertificateNameMismatch));
        Assert.False(validator(new object(), null, null, SslPolicyErrors.RemoteCertificateNotAvailable));
    }
}
