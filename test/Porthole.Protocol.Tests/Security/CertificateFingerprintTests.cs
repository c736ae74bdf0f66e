using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Porthole.Protocol.Security;

namespace Porthole.Protocol.Tests.Security;

public sealed class CertificateFingerprintTests
{
    private const string Hex = "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF";

    private static readonly string Colons = string.Join(':', Hex.Chunk(2).Select(pair => new string(pair)));

    [Fact]
    public void Normalize_AcceptsUppercaseHexWithoutColons()
    {
        Assert.Equal(Hex, CertificateFingerprint.Normalize(Hex));
    }

    [Fact]
    public void Normalize_AcceptsColonSeparatedPairs()
    {
        Assert.Equal(Hex, CertificateFingerprint.Normalize(Colons));
    }

    [Fact]
    public void Normalize_AcceptsLowercase()
    {
        Assert.Equal(Hex, CertificateFingerprint.Normalize(Colons.ToLowerInvariant()));
        Assert.Equal(Hex, CertificateFingerprint.Normalize(Hex.ToLowerInvariant()));
    }

    [Theory]
    [InlineData("sha256:")]
    [InlineData("SHA256:")]
    [InlineData("  sha256:")]
    public void Normalize_AcceptsSha256Prefix(string prefix)
    {
        Assert.Equal(Hex, CertificateFingerprint.Normalize(prefix + Colons.ToLowerInvariant()));
        Assert.Equal(Hex, CertificateFingerprint.Normalize(prefix + Hex));
    }

    [Fact]
    public void Normalize_TrimsSurroundingWhitespace()
    {
        Assert.Equal(Hex, CertificateFingerprint.Normalize($"  {Colons}\n"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("sha256:")]
    [InlineData(Hex + "00")] // SHA-384-ish length
    [InlineData("0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDE")] // 63 digits
    [InlineData("0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEG")] // non-hex
    [InlineData("0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDE-")] // non-hex
    [InlineData("da39a3ee5e6b4b0d3255bfef95601890afd80709")] // SHA-1
    [InlineData("md5:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF")]
    public void Normalize_RejectsAnythingButSha256(string? input)
    {
        Assert.Null(CertificateFingerprint.Normalize(input));
    }

    [Fact]
    public void Of_PrintsUppercaseColonSeparatedSha256OfTheCertificate()
    {
        using var certificate = CreateSelfSigned("CN=porthole-test");

        var fingerprint = CertificateFingerprint.Of(certificate);

        Assert.Matches("^([0-9A-F]{2}:){31}[0-9A-F]{2}$", fingerprint);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(certificate.RawData)), fingerprint.Replace(":", "", StringComparison.Ordinal));
        Assert.Equal(certificate.GetCertHashString(HashAlgorithmName.SHA256), CertificateFingerprint.Normalize(fingerprint));
    }

    [Fact]
    public void Matches_AcceptsOwnFingerprintInAnyAcceptedForm()
    {
        using var certificate = CreateSelfSigned("CN=porthole-test");
        var fingerprint = CertificateFingerprint.Of(certificate);

        Assert.True(CertificateFingerprint.Matches(certificate, fingerprint));
        Assert.True(CertificateFingerprint.Matches(certificate, fingerprint.ToLowerInvariant()));
        Assert.True(CertificateFingerprint.Matches(certificate, fingerprint.Replace(":", "", StringComparison.Ordinal)));
        Assert.True(CertificateFingerprint.Matches(certificate, "sha256:" + fingerprint));
    }

    [Fact]
    public void Matches_RejectsAnotherCertificatesFingerprint()
    {
        using var certificate = CreateSelfSigned("CN=porthole-test");
        using var other = CreateSelfSigned("CN=porthole-test");

        Assert.False(CertificateFingerprint.Matches(certificate, CertificateFingerprint.Of(other)));
    }

    [Fact]
    public void Matches_RejectsMalformedPin()
    {
        using var certificate = CreateSelfSigned("CN=porthole-test");

        Assert.False(CertificateFingerprint.Matches(certificate, "not a fingerprint"));
        Assert.False(CertificateFingerprint.Matches(certificate, ""));
    }

    internal static X509Certificate2 CreateSelfSigned(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
    }
}
