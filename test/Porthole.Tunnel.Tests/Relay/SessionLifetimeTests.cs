using System.Net.WebSockets;
using Microsoft.Extensions.Time.Testing;
using Porthole.Tunnel.Relay;
using Porthole.Tunnel.Tests.Support;

namespace Porthole.Tunnel.Tests.Relay;

/// <summary>Idle and lifetime limits end a relayed session with a close frame that says why.</summary>
public sealed class SessionLifetimeTests
{
    [Fact]
    public async Task IdleSession_IsClosedOnBothSidesWithTheReason()
    {
        var time = new FakeTimeProvider();
        using var timeout = new SessionLifetime(TimeSpan.FromMinutes(30), TimeSpan.FromHours(12), time);
        using var client = await WebSocketPair.CreateAsync();
        using var agent = await WebSocketPair.CreateAsync();
        var relay = WebSocketRelay.RunAsync(client.Server, agent.Server, lifetime: timeout);

        time.Advance(TimeSpan.FromMinutes(31));

        var (clientType, _) = await client.Client.ReceiveMessageAsync().WaitAsync(Timeouts.Test);
        var (agentType, _) = await agent.Client.ReceiveMessageAsync().WaitAsync(Timeouts.Test);
        Assert.Equal((WebSocketMessageType.Close, WebSocketMessageType.Close), (clientType, agentType));
        Assert.Equal("session idle for 30 min", client.Client.CloseStatusDescription);
        Assert.Equal("session idle for 30 min", agent.Client.CloseStatusDescription);
        await client.Client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "ok", CancellationToken.None);
        await agent.Client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "ok", CancellationToken.None);
        var result = await relay.WaitAsync(Timeouts.Test);
        Assert.Equal("session idle for 30 min", result.ClientToAgent.Reason);
    }

    [Fact]
    public async Task Activity_KeepsTheSessionAlive_UntilItsMaximumLifetime()
    {
        var time = new FakeTimeProvider();
        using var timeout = new SessionLifetime(TimeSpan.FromMinutes(30), TimeSpan.FromHours(1), time);
        using var client = await WebSocketPair.CreateAsync();
        using var agent = await WebSocketPair.CreateAsync();
        var relay = WebSocketRelay.RunAsync(client.Server, agent.Server, lifetime: timeout);

        for (var i = 0; i < 5; i++)
        {
            await client.Client.SendBinaryAsync([1, 2, 3]);
            await agent.Client.ReceiveMessageAsync().WaitAsync(Timeouts.Test);
            time.Advance(TimeSpan.FromMinutes(10));
        }

        Assert.False(relay.IsCompleted, "50 active minutes must not count as idle");
        time.Advance(TimeSpan.FromMinutes(11));

        var (type, _) = await client.Client.ReceiveMessageAsync().WaitAsync(Timeouts.Test);
        Assert.Equal(WebSocketMessageType.Close, type);
        Assert.Equal("session reached its maximum lifetime", client.Client.CloseStatusDescription);
    }
}
