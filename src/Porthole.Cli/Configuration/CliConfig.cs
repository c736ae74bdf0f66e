namespace Porthole.Cli.Configuration;

/// <summary>
/// What <c>porthole login</c> remembers: the server, the API token and the trust decision for its certificate.
/// Stored as JSON, mode 0600, because <see cref="Token"/> is a secret.
/// </summary>
public sealed record CliConfig(
    string? Server,
    string? Token,
    string? Fingerprint = null,
    string? CaCert = null,
    bool Insecure = false);
