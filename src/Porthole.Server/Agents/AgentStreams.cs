using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Porthole.Server.Hosting;
using Porthole.Tunnel.Streams;

namespace Porthole.Server.Agents;

/// <summary>
/// The streams connection of each agent that keeps one on this node (docs/design/agent-streams.md). A newer connection
/// of the same device takes new sessions; one it replaced keeps carrying the sessions already on it until they end.
/// </summary>
public sealed class AgentStreams(IOptions<PortholeServerOptions> options)
{
    private readonly ConcurrentDictionary<string, StreamMux> _connections = new(StringComparer.Ordinal);

    /// <summary>What the windows of every stream on this node may take beyond the protocol's starting window (<c>Porthole:AgentStreamsWindowBudget</c>).</summary>
    public StreamWindowBudget WindowBudget { get; } = new(options.Value.AgentStreamsWindowBudget);

    /// <summary>The device's streams connection, or <c>null</c> when it has none (or it has ended).</summary>
    public StreamMux? Find(string deviceId) => _connections.TryGetValue(deviceId, out var mux) && !mux.IsEnded ? mux : null;

    /// <summary>Makes <paramref name="mux"/> the device's connection for new sessions.</summary>
    public void Attach(string deviceId, StreamMux mux) => _connections[deviceId] = mux;

    /// <summary>Forgets the connection if it is still the device's current one.</summary>
    public void Detach(string deviceId, StreamMux mux) => _connections.TryRemove(new KeyValuePair<string, StreamMux>(deviceId, mux));
}
