using Porthole.Protocol.Control;

namespace Porthole.Server.Agents;

/// <summary>The live control channel of one connected agent.</summary>
public interface IAgentChannel
{
    string DeviceId { get; }

    string AgentVersion { get; }

    DateTimeOffset ConnectedAt { get; }

    /// <summary>What the agent last reported about its local kill switch.</summary>
    bool RemoteAccessEnabled { get; }

    /// <summary>Whether the agent can carry sessions on a streams connection (it said so in its hello).</summary>
    bool Streams { get; }

    /// <summary>Sends a message; sends are serialised, so any caller may use it.</summary>
    Task SendAsync(ControlMessage message, CancellationToken cancellationToken);

    /// <summary>Ends the channel (for example when a newer connection of the same device replaces it).</summary>
    void Close(string reason);
}
