using Porthole.Server.Vault;

namespace Porthole.Server.Ssh;

/// <summary>
/// What the server needs to run an SSH terminal for a browser: the stored credential (decrypted, in memory only for
/// the session's set-up) and the host key pinned for the endpoint.
/// </summary>
public sealed record SshTerminalTarget(string EndpointId, string Username, string Kind, EndpointSecret Secret, string? PinnedHostKey)
{
    /// <summary>Never print the secret.</summary>
    public override string ToString() => $"SshTerminalTarget {{ EndpointId = {EndpointId}, Username = {Username}, Kind = {Kind} }}";
}
