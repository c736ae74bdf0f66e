using System.Net.WebSockets;
using CsCheck;
using Porthole.Protocol.Control;
using Porthole.Tunnel.Tests.Support;
using Porthole.Tunnel.Transport;

namespace Porthole.Tunnel.Tests.Transport;

/// <summary>Issue 8, attack 10: a control message split into any WebSocket fragments arrives whole and unchanged.</summary>
public sealed class ControlChannelFragmentationTests
{
    private static readonly Gen<string> Text = Gen.String[Gen.Char['\0', '\uD7FF'], 0, 3000];

    private static readonly Gen<ControlMessage> Message = Gen.OneOf<ControlMessage>(
        Gen.Select(Text, Text, Text, Gen.Int[0, 65535], Gen.Int, (id, key, host, port, timeout) => new OpenSessionMessage(id, key, host, port, timeout)),
        Gen.Select(Text, Text, (code, message) => new RejectMessage(code, message)),
        Gen.Select(Text, Gen.Enum<OpenFailureReason>(), Text, (id, reason, message) => new OpenFailedMessage(id, reason, message)));

    [Fact]
    public async Task AnyMessage_InRandomFragments_ArrivesWholeAndEqual()
    {
        using var pair = await WebSocketPair.CreateAsync();
        using var receiver = new ControlChannel(pair.Server);

        await Gen.Select(Message, Gen.Int[1, 4000].Array[1, 40]).SampleAsync(async (message, cuts) =>
        {
            var bytes = ControlMessageSerializer.Serialize(message);
            var offset = 0;
            foreach (var cut in cuts)
            {
                var length = Math.Min(cut, bytes.Length - offset);
                var last = offset + length == bytes.Length;
                await pair.Client.SendAsync(bytes.AsMemory(offset, length), WebSocketMessageType.Text, last, CancellationToken.None);
                offset += length;
                if (last)
                {
                    break;
                }
            }

            if (offset < bytes.Length)
            {
                await pair.Client.SendAsync(bytes.AsMemory(offset), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            }

            var read = await receiver.ReceiveAsync(CancellationToken.None).WaitAsync(Timeouts.Short);

            Assert.Null(read.Error);
            Assert.Equal(message, read.Message);
        }, iter: 300, threads: 1);
    }
}
