using Porthole.Protocol.Control;
using Porthole.Tunnel.Transport;

namespace Porthole.Server.Agents;

/// <summary>An agent's control channel on this node, as presence sees it.</summary>
public sealed class AgentControlChannel(ControlChannel channel, string deviceId, string agentVersion, bool remoteAccessEnabled, DateTimeOffset connectedAt, bool streams = false)
    : IAgentChannel, IDisposable
{
    private readonly CancellationTokenSource _closed = new();

    // Sessions may be opened on the channel from the moment presence lists it, which is before the welcome has gone
    // out (listing it after the welcome left a moment in which the agent, welcomed, was still "offline" to a client):
    // everything else waits for the welcome, so that the agent reads it first.
    private readonly TaskCompletionSource _welcomed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string DeviceId { get; } = deviceId;

    public string AgentVersion { get; } = agentVersion;

    public DateTimeOffset ConnectedAt { get; } = connectedAt;

    public bool RemoteAccessEnabled { get; set; } = remoteAccessEnabled;

    public bool Streams { get; } = streams;

    /// <summary>Cancelled when the channel is closed from this side.</summary>
    public CancellationToken Closed => _closed.Token;

    /// <summary>Why the channel was closed from this side, if it was.</summary>
    public string? CloseReason { get; private set; }

    public async Task SendAsync(ControlMessage message, CancellationToken cancellationToken)
    {
        await _welcomed.Task.WaitAsync(cancellationToken);
        await channel.SendAsync(message, cancellationToken);
    }

    /// <summary>Sends the welcome, the agent's first message; what others send waits for it.</summary>
    public async Task WelcomeAsync(WelcomeMessage welcome, CancellationToken cancellationToken)
    {
        await channel.SendAsync(welcome, cancellationToken);
        _welcomed.TrySetResult();
    }

    public void Close(string reason)
    {
        CloseReason = reason;
        _closed.Cancel();
    }

    public void Dispose()
    {
        // A channel that ends before its welcome went out fails what waits to be sent, as a closed channel would.
        _welcomed.TrySetException(new ObjectDisposedException("agent channel"));
        _closed.Dispose();
    }
}
