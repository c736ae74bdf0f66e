using Porthole.Protocol.Security;
using Porthole.Tunnel.Transport;

namespace Porthole.Cli.Configuration;

/// <summary>
/// The user's decision on how to trust the server certificate, validated and in the form it is stored and printed.
/// </summary>
/// <param name="Fingerprint">A pinned SHA-256 fingerprint in colon-separated uppercase hex, as the server prints it.</param>
/// <param name="CaCert">Absolute path of a CA certificate.</param>
/// <param name="Insecure">Whether verification is off.</param>
public sealed record TrustChoice(string? Fingerprint, string? CaCert, bool Insecure)
{
    /// <summary>Verify against the system's roots.</summary>
    public static TrustChoice System { get; } = new(null, null, false);

    /// <summary>
    /// Validates the three mutually exclusive settings; returns <c>null</c> when none is given.
    /// </summary>
    /// <param name="fingerprint">Raw fingerprint text.</param>
    /// <param name="caCert">Path of a CA certificate file.</param>
    /// <param name="insecure">Whether verification is off.</param>
    /// <param name="source">How the settings were given, for messages (e.g. "options", "environment").</param>
    public static TrustChoice? From(string? fingerprint, string? caCert, bool insecure, string source)
    {
        fingerprint = string.IsNullOrWhiteSpace(fingerprint) ? null : fingerprint;
        caCert = string.IsNullOrWhiteSpace(caCert) ? null : caCert;
        var given = (fingerprint is null ? 0 : 1) + (caCert is null ? 0 : 1) + (insecure ? 1 : 0);
        if (given == 0)
        {
            return null;
        }

        if (given > 1)
        {
            throw CliException.Usage($"use only one of fingerprint, CA certificate and insecure ({source})");
        }

        if (fingerprint is not null)
        {
            var hex = CertificateFingerprint.Normalize(fingerprint)
                ?? throw CliException.Usage($"'{fingerprint}' is not a SHA-256 fingerprint (64 hex digits, colons optional)");
            return new TrustChoice(string.Join(':', hex.Chunk(2).Select(pair => new string(pair))), null, false);
        }

        if (caCert is not null)
        {
            var path = Path.GetFullPath(caCert);
            if (!File.Exists(path))
            {
                throw CliException.Usage($"the CA certificate {path} does not exist");
            }

            return new TrustChoice(null, path, false);
        }

        return new TrustChoice(null, null, true);
    }

    /// <summary>The transport's trust decision.</summary>
    public ServerTrust ToServerTrust() => new(Fingerprint, CaCert, Insecure);

    /// <summary>Prints the warning <c>--insecure</c> deserves every time it is in effect.</summary>
    public void WarnIfInsecure()
    {
        if (Insecure)
        {
            Console.Error.WriteLine("porthole: WARNING: TLS CERTIFICATE VERIFICATION IS DISABLED (--insecure). Anyone on the network path can impersonate the server and steal your API token. Use --fingerprint or --ca-cert instead.");
        }
    }
}
