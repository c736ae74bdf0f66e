using System.Net.WebSockets;
using System.Text;
using Porthole.Protocol.Control;
using Porthole.Tunnel.Tests.Support;
using Porthole.Tunnel.Transport;

namespace Porthole.Tunnel.Tests.Transport;

/// <summary>The control channel reads into a small buffer first and grows it only for a message that needs it.</summary>
public sealed class ControlChannelTests
{
    [Fact]
    public async Task ReceiveAsync_MessageLargerThanTheFirstBuffer_IsReadWhole()
    {
        using var pair = await WebSocketPair.CreateAsync();
        using var channel = new ControlChannel(pair.Server);
        var json = Encoding.UTF8.GetString(ControlMessageSerializer.Serialize(new AgentStatusMessage(true)));
        var padded = "{" + new string(' ', 20 * ControlChannel.InitialBufferBytes) + json[1..];

        await pair.Client.SendAsync(Encoding.UTF8.GetBytes(padded), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        var read = await channel.ReceiveAsync(CancellationToken.None).WaitAsync(Timeouts.Test);

        Assert.Null(read.Error);
        Assert.Equal(new AgentStatusMessage(true), Assert.IsType<AgentStatusMessage>(read.Message));
    }

    [Fact]
    public async Task ReceiveAsync_MessageOverTheLimit_IsRefused()
    {
        using var pair = await WebSocketPair.CreateAsync();
        using var channel = new ControlChannel(pair.Server);

        var send = pair.Client.SendAsync(new byte[ControlProtocol.MaxMessageBytes + 10], WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        var read = await channel.ReceiveAsync(CancellationToken.None).WaitAsync(Timeouts.Test);

        Assert.Equal("control message too large", read.Error);
        pair.Server.Abort();
        await send.ContinueWith(_ => { }, TaskScheduler.Default);
    }
}
