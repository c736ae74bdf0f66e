using System.Net.WebSockets;
using System.Security.Cryptography;
using Porthole.Tunnel.Frames;
using Porthole.Tunnel.Relay;
using Porthole.Tunnel.Tests.Support;

namespace Porthole.Tunnel.Tests.Relay;

/// <summary>
/// The relay under load as a <c>wss://</c> server runs it: concurrent sessions over real TLS sockets, both directions
/// at once, messages of random size split into random fragments, with quiet spells between bursts so every pump
/// direction keeps switching between its small and its full-size buffer (<see cref="AdaptiveBuffer"/>). An earlier
/// idle-memory attempt (zero-byte reads) passed the small unit tests and then hung or reset streams under exactly
/// this kind of load.
/// </summary>
public sealed class WebSocketRelayLoadTests
{
    private const int Sessions = 8;
    private const int BytesPerDirection = 3 * 1024 * 1024;

    [Theory]
    [InlineData(RelayKind.WebSocketObjects)]
    [InlineData(RelayKind.Frames)]
    public async Task RunAsync_EightConcurrentTlsSessionsWithRandomFragmentation_DeliverEveryByteInOrder(RelayKind kind)
    {
        var sessions = Enumerable.Range(0, Sessions).Select(seed => RunSessionAsync(kind, seed)).ToArray();
        await Task.WhenAll(sessions).WaitAsync(TimeSpan.FromSeconds(90));
    }

    private static async Task RunSessionAsync(RelayKind kind, int seed)
    {
        using var client = await TlsWebSocketPair.CreateAsync();
        using var agent = await TlsWebSocketPair.CreateAsync();
        var relay = kind == RelayKind.Frames
            ? FrameRelay.RunAsync(client.ServerLeg("client"), agent.ServerLeg("agent"))
            : WebSocketRelay.RunAsync(client.Server, agent.Server);

        var upload = RandomNumberGenerator.GetBytes(BytesPerDirection);
        var download = RandomNumberGenerator.GetBytes(BytesPerDirection);
        var sendUp = SendFragmentedAsync(client.Client, upload, new Random(seed));
        var sendDown = SendFragmentedAsync(agent.Client, download, new Random(seed + 1000));
        var receivedUp = ReceiveUntilFinAsync(agent.Client);
        var receivedDown = ReceiveUntilFinAsync(client.Client);
        await Task.WhenAll(sendUp, sendDown, receivedUp, receivedDown);

        Assert.Equal(SHA256.HashData(upload), SHA256.HashData(await receivedUp));
        Assert.Equal(SHA256.HashData(download), SHA256.HashData(await receivedDown));

        var clientClose = client.Client.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        var (type, _) = await agent.Client.ReceiveMessageAsync();
        Assert.Equal(WebSocketMessageType.Close, type);
        await agent.Client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        await clientClose;

        var result = await relay;
        Assert.Equal(upload.Length + DataFrames.Fin.Length, result.ClientToAgent.Bytes);
        Assert.Equal(download.Length + DataFrames.Fin.Length, result.AgentToClient.Bytes);
    }

    /// <summary>
    /// Sends <paramref name="data"/> as messages of 1 B to 600 KiB, each in up to four fragments, pausing now and then,
    /// then <c>fin</c>. Frames over <see cref="FrameRelay.WholeFrameLimit"/> take the frame relay's cut-through path.
    /// </summary>
    private static async Task SendFragmentedAsync(WebSocket webSocket, byte[] data, Random random)
    {
        var offset = 0;
        while (offset < data.Length)
        {
            var size = Math.Min(data.Length - offset, random.Next(6) switch
            {
                0 => random.Next(1, 64),
                1 => random.Next(64, 8 * 1024),
                5 => random.Next(200 * 1024, 600 * 1024),
                _ => random.Next(8 * 1024, 200 * 1024),
            });
            var fragments = random.Next(1, 5);
            for (var i = 0; i < fragments; i++)
            {
                var length = i == fragments - 1 ? size : random.Next(0, size + 1);
                await webSocket.SendAsync(data.AsMemory(offset, length), WebSocketMessageType.Binary, endOfMessage: i == fragments - 1, CancellationToken.None);
                offset += length;
                size -= length;
            }

            if (random.Next(16) == 0)
            {
                await Task.Delay(random.Next(1, 15));
            }
        }

        await webSocket.SendAsync(DataFrames.Fin, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
    }

    private static async Task<byte[]> ReceiveUntilFinAsync(WebSocket webSocket)
    {
        using var received = new MemoryStream();
        while (true)
        {
            var (type, payload) = await webSocket.ReceiveMessageAsync();
            if (type == WebSocketMessageType.Text)
            {
                Assert.True(DataFrames.IsFin(payload), "only fin may arrive as text");
                return received.ToArray();
            }

            Assert.Equal(WebSocketMessageType.Binary, type);
            received.Write(payload);
        }
    }
}
