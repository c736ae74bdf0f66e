namespace Porthole.Server.Web;

/// <summary>A browser viewer: its route segment, the session action it opens, and the menu label.</summary>
public sealed record ViewerKind(string Segment, string Action, string Label);

/// <summary>Which in-browser viewer serves which endpoint protocol.</summary>
public static class ViewerKinds
{
    public static readonly ViewerKind Vnc = new("vnc", Identity.Actions.Vnc, "Connect (VNC)");

    /// <summary>
    /// A terminal: raw bytes for Telnet servers and plain TCP consoles; for SSH the server runs the SSH client with the
    /// endpoint's stored credential (docs/design/credential-vault.md).
    /// </summary>
    public static readonly ViewerKind Terminal = new("terminal", Identity.Actions.Terminal, "Open terminal");

    /// <summary>The device's own web page, through the web proxy on a session origin of its own (docs/design/web-proxy.md).</summary>
    public static readonly ViewerKind Web = new("web", Identity.Actions.Web, "Open device webpage");

    public static ViewerKind? ViewerOf(string protocol) => protocol switch
    {
        "vnc" => Vnc,
        "telnet" or "tcp" or "ssh" => Terminal,
        "http" or "https" => Web,
        _ => null,
    };
}
