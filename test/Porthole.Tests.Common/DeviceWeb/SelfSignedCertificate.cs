using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Porthole.Tests.Common.DeviceWeb;

/// <summary>A self-signed certificate for 127.0.0.1 made by <c>openssl req</c>, as a device ships one.</summary>
/// <param name="CertificatePath">PEM certificate.</param>
/// <param name="KeyPath">PEM private key, unencrypted.</param>
/// <param name="Sha256">SHA-256 of the DER certificate, 64 upper-case hex digits without separators.</param>
public sealed record SelfSignedCertificate(string CertificatePath, string KeyPath, string Sha256)
{
    /// <summary>Writes <c>NAME.pem</c> and <c>NAME.key</c> into <paramref name="directory"/> (replacing them).</summary>
    public static async Task<SelfSignedCertificate> CreateAsync(string directory, string name, string commonName = "127.0.0.1")
    {
        var certificate = Path.Combine(directory, name + ".pem");
        var key = Path.Combine(directory, name + ".key");
        var result = await ProcessRunner.RunAsync(
            "openssl",
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "7",
             "-keyout", key, "-out", certificate, "-subj", "/CN=" + commonName, "-addext", "subjectAltName=IP:127.0.0.1"],
            timeout: TimeSpan.FromSeconds(30));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException("openssl req failed: " + result);
        }

        using var loaded = X509CertificateLoader.LoadCertificateFromFile(certificate);
        return new SelfSignedCertificate(certificate, key, Convert.ToHexString(SHA256.HashData(loaded.RawData)));
    }

    /// <summary><see cref="Sha256"/> as <c>AB:CD:…</c>.</summary>
    public string Sha256WithColons => string.Join(':', Enumerable.Range(0, Sha256.Length / 2).Select(i => Sha256.Substring(i * 2, 2)));
}
