using System.Net.WebSockets;
using Porthole.Protocol.Control;

namespace Porthole.Server.Relay;

/// <summary>How the agent answered an <c>open</c>: with a data WebSocket, or with the reason it could not.</summary>
public sealed record AgentLegOutcome(WebSocket? WebSocket, OpenFailureReason? Failure, string? Message)
{
    public static AgentLegOutcome Attached(WebSocket webSocket) => new(webSocket, null, null);

    public static AgentLegOutcome Failed(OpenFailureReason reason, string message) => new(null, reason, message);
}
