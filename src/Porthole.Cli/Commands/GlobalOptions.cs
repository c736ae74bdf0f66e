using System.CommandLine;

namespace Porthole.Cli.Commands;

/// <summary>Options accepted by every command: which server, and how to trust its certificate.</summary>
public sealed class GlobalOptions
{
    /// <summary><c>--server URL</c>; overrides <c>PORTHOLE_SERVER</c> and the config file.</summary>
    public Option<string?> Server { get; } = new("--server")
    {
        Description = "Server URL, e.g. https://porthole.example:8443 (default: $PORTHOLE_SERVER, then the config file)",
        Recursive = true,
    };

    /// <summary><c>--fingerprint SHA256</c>: pins the server certificate.</summary>
    public Option<string?> Fingerprint { get; } = new("--fingerprint")
    {
        Description = "Trust only the server certificate with this SHA-256 fingerprint (the server prints it at start)",
        Recursive = true,
    };

    /// <summary><c>--ca-cert FILE</c>: trusts a private CA.</summary>
    public Option<FileInfo?> CaCert { get; } = new("--ca-cert")
    {
        Description = "Trust server certificates issued by this CA certificate (PEM or DER)",
        Recursive = true,
    };

    /// <summary><c>--insecure</c>: skips certificate verification.</summary>
    public Option<bool> Insecure { get; } = new("--insecure")
    {
        Description = "Do not verify the server certificate (dangerous: the API token can be intercepted)",
        Recursive = true,
    };

    /// <summary>Adds the options to the root command.</summary>
    public void AddTo(Command root)
    {
        root.Options.Add(Server);
        root.Options.Add(Fingerprint);
        root.Options.Add(CaCert);
        root.Options.Add(Insecure);
    }
}
