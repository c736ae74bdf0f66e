namespace Porthole.Server.Agents;

/// <summary>
/// Which devices have a live control channel, and where. One server node keeps it in memory; a scaled-out
/// deployment replaces it with one that also knows channels held by other nodes.
/// </summary>
public interface IDevicePresence
{
    /// <summary>The device's channel, or <c>null</c> when the device is offline.</summary>
    IAgentChannel? Find(string deviceId);

    /// <summary>Every channel this node holds (to close them all when the server stops).</summary>
    IReadOnlyCollection<IAgentChannel> Channels { get; }

    /// <summary>Registers a channel, closing any older channel of the same device.</summary>
    void Attach(IAgentChannel channel);

    /// <summary>Removes the channel if it is still the current one; returns whether it was.</summary>
    bool Detach(IAgentChannel channel);
}
