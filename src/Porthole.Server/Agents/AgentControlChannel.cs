using System.Net.WebSockets;
using Porthole.Protocol.Control;

namespace Porthole.Server.Agents;

/// <summary>An agent's control WebSocket on this node.</summary>
public sealed class AgentControlChannel(WebSocket webSocket, string deviceId, string agentVersion, bool remoteAccessEnabled, DateTimeOffset connectedAt)
    : IAgentChannel, IDisposable
{
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _closed = new();

    public string DeviceId { get; } = deviceId;

    public string AgentVersion { get; } = agentVersion;

    public DateTimeOffset ConnectedAt { get; } = connectedAt;

    public bool RemoteAccessEnabled { get; set; } = remoteAccessEnabled;

    /// <summary>Cancelled when the channel is closed from this side.</summary>
    public CancellationToken Closed => _closed.Token;

    /// <summary>Why the channel was closed from this side, if it was.</summary>
    public string? CloseReason { get; private set; }

    public async Task SendAsync(ControlMessage message, CancellationToken cancellationToken)
    {
        var payload = ControlMessageSerializer.Serialize(message);
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            await webSocket.SendAsync(payload, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public void Close(string reason)
    {
        CloseReason = reason;
        _closed.Cancel();
    }

    public void Dispose()
    {
        _sendLock.Dispose();
        _closed.Dispose();
    }
}
