using Porthole.Protocol.Control;

namespace Porthole.Server.Relay;

/// <summary>How the agent answered an <c>open</c>: with its data leg, or with the reason it could not.</summary>
public sealed record AgentLegOutcome(DataLeg? Leg, OpenFailureReason? Failure, string? Message)
{
    public static AgentLegOutcome Attached(DataLeg leg) => new(leg, null, null);

    public static AgentLegOutcome Failed(OpenFailureReason reason, string message) => new(null, reason, message);
}
