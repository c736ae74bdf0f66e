namespace Porthole.Server.Identity;

/// <summary>The kinds of remote access a grant can be restricted to.</summary>
public static class Actions
{
    public const string Vnc = "vnc";
    public const string Terminal = "terminal";
    public const string Web = "web";
    public const string Tunnel = "tunnel";
    public const string FileTransfer = "file-transfer";

    public static readonly IReadOnlyList<string> All = [Vnc, Terminal, Web, Tunnel, FileTransfer];
}
