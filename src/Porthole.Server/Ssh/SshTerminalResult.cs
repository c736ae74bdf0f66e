namespace Porthole.Server.Ssh;

/// <summary>How an SSH terminal session went, for the audit log and the host-key pin.</summary>
/// <param name="Failure">Why it could not start, in words for the user; <c>null</c> when it ran.</param>
/// <param name="SeenHostKey">The server's host key fingerprint (<c>SHA256:…</c>), when the connection got that far.</param>
/// <param name="HostKeyMismatch">The host key differs from the pinned one; the connection was refused.</param>
/// <param name="BytesToServer">Terminal input sent to the SSH server.</param>
/// <param name="BytesToClient">Terminal output sent to the client.</param>
public sealed record SshTerminalResult(string? Failure, string? SeenHostKey, bool HostKeyMismatch, long BytesToServer, long BytesToClient);
