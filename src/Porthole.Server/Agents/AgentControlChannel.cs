using Porthole.Protocol.Control;
using Porthole.Tunnel.Transport;

namespace Porthole.Server.Agents;

/// <summary>An agent's control channel on this node, as presence sees it.</summary>
public sealed class AgentControlChannel(ControlChannel channel, string deviceId, string agentVersion, bool remoteAccessEnabled, DateTimeOffset connectedAt, bool streams = false)
    : IAgentChannel, IDisposable
{
    private readonly CancellationTokenSource _closed = new();

    public string DeviceId { get; } = deviceId;

    public string AgentVersion { get; } = agentVersion;

    public DateTimeOffset ConnectedAt { get; } = connectedAt;

    public bool RemoteAccessEnabled { get; set; } = remoteAccessEnabled;

    public bool Streams { get; } = streams;

    /// <summary>Cancelled when the channel is closed from this side.</summary>
    public CancellationToken Closed => _closed.Token;

    /// <summary>Why the channel was closed from this side, if it was.</summary>
    public string? CloseReason { get; private set; }

    public Task SendAsync(ControlMessage message, CancellationToken cancellationToken) => channel.SendAsync(message, cancellationToken);

    public void Close(string reason)
    {
        CloseReason = reason;
        _closed.Cancel();
    }

    public void Dispose() => _closed.Dispose();
}
