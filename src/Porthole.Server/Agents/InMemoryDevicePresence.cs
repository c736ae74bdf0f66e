using System.Collections.Concurrent;

namespace Porthole.Server.Agents;

/// <summary>Presence for a single server node.</summary>
public sealed class InMemoryDevicePresence : IDevicePresence
{
    private readonly ConcurrentDictionary<string, IAgentChannel> _channels = new(StringComparer.Ordinal);

    public IAgentChannel? Find(string deviceId) => _channels.GetValueOrDefault(deviceId);

    public IReadOnlyCollection<IAgentChannel> Channels => [.. _channels.Values];

    public void Attach(IAgentChannel channel)
    {
        IAgentChannel? replaced = null;
        _channels.AddOrUpdate(channel.DeviceId, channel, (_, old) =>
        {
            replaced = old;
            return channel;
        });

        if (replaced is not null && !ReferenceEquals(replaced, channel))
        {
            replaced.Close("replaced by a newer connection of the same device");
        }
    }

    public bool Detach(IAgentChannel channel) =>
        _channels.TryRemove(new KeyValuePair<string, IAgentChannel>(channel.DeviceId, channel));
}
