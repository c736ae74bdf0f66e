namespace Porthole.Tunnel.Transport;

/// <summary>
/// Keep-alive of every long-lived WebSocket (control channel and both legs of a session). Each side pings every
/// <see cref="Interval"/>; a peer from which nothing at all arrives for <see cref="Interval"/> + <see cref="Timeout"/>
/// while we are waiting to read from it is gone, and the connection is closed with a reason. With the defaults a
/// dead or frozen peer is noticed within 30 s, two keep-alive periods.
/// </summary>
/// <remarks>
/// Why not the WebSocket's own <c>KeepAliveTimeout</c>: it counts from the ping to the pong being <em>processed</em>,
/// and a pong queued behind data that we are not reading — because the other leg is slow and we must not buffer
/// without bound — is never processed in time. It killed healthy, merely back-pressured sessions (issue 8, fault 1).
/// <see cref="SilentPeerStream"/> counts only time spent waiting for bytes, so back-pressure never looks like death.
/// </remarks>
/// <param name="Interval">Time between pings. Default: 15 seconds.</param>
/// <param name="Timeout">Extra time a peer has to answer before it counts as gone. Default: 15 seconds.</param>
public sealed record KeepAliveSettings(TimeSpan Interval, TimeSpan Timeout)
{
    /// <summary>15 s between pings, gone after 30 s of silence.</summary>
    public static KeepAliveSettings Default { get; } = new(TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(15));

    /// <summary>
    /// What the WebSocket itself is told as pong timeout: finite, so that it sends pings (which browsers answer; with an
    /// infinite one it sends only unsolicited pongs), and far away, so that it never fires before
    /// <see cref="SilentPeerStream"/> does.
    /// </summary>
    public static TimeSpan WebSocketPongTimeout { get; } = TimeSpan.FromDays(1);

    /// <summary>How long a read may wait for the peer before the peer counts as gone.</summary>
    public TimeSpan SilenceLimit => Interval + Timeout;

    /// <summary>Throws with a message naming the setting when a value is out of range.</summary>
    public void Validate(string what)
    {
        if (Interval < TimeSpan.FromMilliseconds(100) || Interval > TimeSpan.FromHours(1)
            || Timeout < TimeSpan.FromMilliseconds(100) || Timeout > TimeSpan.FromHours(1))
        {
            throw new InvalidOperationException($"{what}: keep-alive interval and timeout must be between 0.1 s and 1 h.");
        }
    }
}
