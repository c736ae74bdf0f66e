namespace Porthole.Server.Vault;

/// <summary>The kinds of endpoint credential the vault stores.</summary>
public static class CredentialKinds
{
    /// <summary>A VNC password (VNC Authentication, RFC 6143 §7.2.2); no user name.</summary>
    public const string VncPassword = "vnc-password";

    /// <summary>SSH user name and password.</summary>
    public const string SshPassword = "ssh-password";

    /// <summary>SSH user name and private key (ed25519, RSA or ECDSA), optionally passphrase-protected.</summary>
    public const string SshKey = "ssh-key";

    /// <summary>HTTP basic or digest user name and password (used by the web proxy).</summary>
    public const string HttpPassword = "http-password";

    public static readonly IReadOnlyList<string> All = [VncPassword, SshPassword, SshKey, HttpPassword];

    /// <summary>Which kinds make sense for an endpoint protocol.</summary>
    public static bool FitsProtocol(string kind, string protocol) => (kind, protocol) switch
    {
        (VncPassword, "vnc") => true,
        (SshPassword or SshKey, "ssh") => true,
        (HttpPassword, "http" or "https") => true,
        _ => false,
    };
}
