using System.Net.Security;
using System.Security.Authentication;

namespace Porthole.Server.Transport.Tls;

#pragma warning disable SYSLIB0058 // The obsolete members are part of the interface Kestrel's features implement.

/// <summary>
/// The obsolete per-algorithm members of <c>ITlsHandshakeFeature</c> for a connection OpenSSL negotiated, read off the
/// suite's name as <see cref="SslStream"/> reports them. Nothing in Porthole reads them; a library above Kestrel might.
/// </summary>
internal static class LegacyCipherDetails
{
    public static CipherAlgorithmType Cipher(TlsCipherSuite? suite) => Name(suite) switch
    {
        var name when name.Contains("AES_128", StringComparison.Ordinal) => CipherAlgorithmType.Aes128,
        var name when name.Contains("AES_256", StringComparison.Ordinal) => CipherAlgorithmType.Aes256,
        _ => CipherAlgorithmType.None,
    };

    public static int CipherStrength(TlsCipherSuite? suite) => Name(suite) switch
    {
        var name when name.Contains("AES_128", StringComparison.Ordinal) => 128,
        var name when name.Contains("AES_256", StringComparison.Ordinal) || name.Contains("CHACHA20", StringComparison.Ordinal) => 256,
        _ => 0,
    };

    public static HashAlgorithmType Hash(TlsCipherSuite? suite) => Name(suite) switch
    {
        var name when name.EndsWith("SHA384", StringComparison.Ordinal) => HashAlgorithmType.Sha384,
        var name when name.EndsWith("SHA256", StringComparison.Ordinal) => HashAlgorithmType.Sha256,
        _ => HashAlgorithmType.None,
    };

    private static string Name(TlsCipherSuite? suite) => suite?.ToString() ?? "";
}
