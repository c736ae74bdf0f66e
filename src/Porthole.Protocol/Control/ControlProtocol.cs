namespace Porthole.Protocol.Control;

/// <summary>
/// Constants of the agent control channel. See docs/design/core-tunnel.md.
/// </summary>
public static class ControlProtocol
{
    /// <summary>The oldest control protocol version this build speaks.</summary>
    public const int MinVersion = 1;

    /// <summary>The newest control protocol version this build speaks.</summary>
    public const int MaxVersion = 1;

    /// <summary>WebSocket sub-protocol offered by the agent on the control channel.</summary>
    public const string SubProtocol = "porthole.control";

    /// <summary>WebSocket sub-protocol of a data (session) WebSocket.</summary>
    public const string DataSubProtocol = "porthole.data";

    /// <summary>WebSocket sub-protocol of the agent's streams connection (many sessions on one WebSocket).</summary>
    public const string StreamsSubProtocol = "porthole.streams";

    /// <summary>Largest control message either side accepts; anything bigger is a protocol error.</summary>
    public const int MaxMessageBytes = 64 * 1024;

    /// <summary>Header that carries a session key on a data WebSocket.</summary>
    public const string SessionKeyHeader = "Porthole-Session-Key";

    /// <summary>
    /// Picks the highest version both sides speak, or <c>null</c> when the ranges do not overlap.
    /// </summary>
    public static int? Negotiate(int peerMin, int peerMax)
    {
        var high = Math.Min(peerMax, MaxVersion);
        var low = Math.Max(peerMin, MinVersion);
        return high >= low ? high : null;
    }
}
