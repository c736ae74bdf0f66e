using System.Security.Cryptography;
using System.Text;

namespace Porthole.Protocol.Security;

/// <summary>
/// Random bearer secrets with a readable prefix (so a leaked one is recognisable in a scanner) and their
/// at-rest hash. The secrets are 256-bit random, so a fast hash is enough: there is nothing to brute-force.
/// </summary>
public static class SecretTokens
{
    /// <summary>API token of a user.</summary>
    public const string ApiTokenPrefix = "pat_";

    /// <summary>One-time enrolment token of a device.</summary>
    public const string EnrolmentPrefix = "pte_";

    /// <summary>Long-lived credential of an enrolled device.</summary>
    public const string DeviceCredentialPrefix = "ptd_";

    /// <summary>Creates a new secret: the prefix followed by 32 random bytes in base64url.</summary>
    public static string Create(string prefix) => prefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    /// <summary>A random identifier (16 bytes, base64url) for sessions and keys that are not stored.</summary>
    public static string CreateId() => Base64Url(RandomNumberGenerator.GetBytes(16));

    /// <summary>The at-rest form of a secret: lowercase hex SHA-256 of its UTF-8 bytes.</summary>
    public static string Hash(string secret) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>Compares two secrets in constant time.</summary>
    public static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
