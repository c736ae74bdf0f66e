using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Porthole.Protocol.Security;

/// <summary>SHA-256 fingerprints of certificates, printed by the server and pinned by the CLI and agent.</summary>
public static class CertificateFingerprint
{
    /// <summary>Uppercase hex pairs separated by colons, as <c>openssl x509 -fingerprint -sha256</c> prints them.</summary>
    public static string Of(X509Certificate2 certificate) =>
        string.Join(':', Convert.ToHexString(SHA256.HashData(certificate.RawData)).Chunk(2).Select(pair => new string(pair)));

    /// <summary>
    /// Normalises a user-supplied fingerprint (any case, with or without colons or a <c>sha256:</c> prefix)
    /// to 64 uppercase hex digits, or returns <c>null</c> when it is not a SHA-256 fingerprint.
    /// </summary>
    public static string? Normalize(string? input)
    {
        if (string.IsNullOrWhiteSpace(input))
        {
            return null;
        }

        var text = input.Trim();
        if (text.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase))
        {
            text = text["sha256:".Length..];
        }

        var hex = text.Replace(":", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant();
        return hex.Length == 64 && hex.All(Uri.IsHexDigit) ? hex : null;
    }

    /// <summary>Whether <paramref name="certificate"/> has the pinned fingerprint.</summary>
    public static bool Matches(X509Certificate2 certificate, string pinned) =>
        string.Equals(Convert.ToHexString(SHA256.HashData(certificate.RawData)), Normalize(pinned), StringComparison.Ordinal);
}
