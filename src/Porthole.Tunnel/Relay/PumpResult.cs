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

/// <summary>Which end of a pump an operation failed on.</summary>
public enum PumpSide
{
    /// <summary>Nothing failed.</summary>
    None,

    /// <summary>Reading from the pump's source failed.</summary>
    Source,

    /// <summary>Writing to the pump's destination failed.</summary>
    Destination,
}

/// <summary>The outcome of one direction of a pump.</summary>
/// <param name="End">Why it stopped.</param>
/// <param name="Bytes">Payload bytes moved.</param>
/// <param name="Reason">A readable reason for anything but <see cref="PumpEnd.Completed"/>.</param>
/// <param name="FailedSide">For <see cref="PumpEnd.Failed"/>: whether the source or the destination failed, so the caller closes the side still alive.</param>
public readonly record struct PumpResult(PumpEnd End, long Bytes, string? Reason = null, PumpSide FailedSide = PumpSide.None);
