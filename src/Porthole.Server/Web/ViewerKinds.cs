namespace Porthole.Server.Web;

/// <summary>A browser viewer: its route segment, the session action it opens, and the menu label.</summary>
public sealed record ViewerKind(string Segment, string Action, string Label);

/// <summary>Which in-browser viewer serves which endpoint protocol.</summary>
public static class ViewerKinds
{
    public static readonly ViewerKind Vnc = new("vnc", Identity.Actions.Vnc, "Connect (VNC)");

    /// <summary>Raw bytes to a terminal: Telnet servers and plain TCP consoles. SSH needs the server-side client (issue 4).</summary>
    public static readonly ViewerKind Terminal = new("terminal", Identity.Actions.Terminal, "Open terminal");

    public static ViewerKind? ViewerOf(string protocol) => protocol switch
    {
        "vnc" => Vnc,
        "telnet" or "tcp" => Terminal,
        _ => null,
    };
}
