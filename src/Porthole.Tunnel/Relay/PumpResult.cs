namespace Porthole.Tunnel.Relay;

/// <summary>Why one direction of a pump stopped.</summary>
public enum PumpEnd
{
    /// <summary>The source finished sending (EOF or the <c>fin</c> marker); the other direction may go on.</summary>
    Completed,

    /// <summary>The WebSocket peer closed the session; its close description says why.</summary>
    PeerClosed,

    /// <summary>The transport failed (reset, abort, protocol violation).</summary>
    Failed,

    /// <summary>The pump was cancelled.</summary>
    Canceled,
}

/// <summary>The outcome of one direction of a pump.</summary>
/// <param name="End">Why it stopped.</param>
/// <param name="Bytes">Payload bytes moved.</param>
/// <param name="Reason">A readable reason for anything but <see cref="PumpEnd.Completed"/>.</param>
public readonly record struct PumpResult(PumpEnd End, long Bytes, string? Reason = null);
