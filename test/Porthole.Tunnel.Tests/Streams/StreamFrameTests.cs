using System.Buffers.Binary;
using System.Text;
using CsCheck;
using Porthole.Tunnel.Streams;

namespace Porthole.Tunnel.Tests.Streams;

/// <summary>
/// The stream-frame codec (docs/design/agent-streams.md, "Wire format"): what it accepts comes back field by field, and
/// every rule a message can break is reported as a reason, never thrown.
/// </summary>
public sealed class StreamFrameTests
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static TheoryData<StreamFrameType, byte[]> ValidFrames => new()
    {
        { StreamFrameType.Data, [] },
        { StreamFrameType.Data, [1, 2, 3] },
        { StreamFrameType.Data, Pattern(StreamFrame.MaxData) },
        { StreamFrameType.Fin, [] },
        { StreamFrameType.Close, [] },
        { StreamFrameType.Close, Close(1000, "done") },
        { StreamFrameType.Close, Close(1001, "agent disconnected") },
        { StreamFrameType.Close, Close(4999, new string('x', StreamFrame.MaxReasonBytes)) },
        { StreamFrameType.Close, Close(3000, "zurückgewiesen ✓") },
        { StreamFrameType.Credit, [0, 0, 0, 0] },
        { StreamFrameType.Credit, [0xFF, 0xFF, 0xFF, 0xFF] },
    };

    [Theory]
    [MemberData(nameof(ValidFrames))]
    public void TryParse_ValidFrameOfEachType_RoundTrips(StreamFrameType type, byte[] payload)
    {
        var message = Message(0xDEADBEEF, type, payload);

        var error = StreamFrame.TryParse(message, out var frame);

        Assert.Null(error);
        Assert.Equal(0xDEADBEEF, frame.StreamId);
        Assert.Equal(type, frame.Type);
        Assert.Equal(payload, frame.Payload.ToArray());
    }

    [Fact]
    public void WriteHeader_WritesTheIdBigEndianThenTheType()
    {
        var header = new byte[StreamFrame.HeaderLength];

        StreamFrame.WriteHeader(header, 0x01020304, StreamFrameType.Credit);

        Assert.Equal(new byte[] { 1, 2, 3, 4, 3 }, header);
    }

    [Theory]
    [InlineData(new byte[] { 0, 0, 0, 0 }, 0u)]
    [InlineData(new byte[] { 1, 2, 3, 4 }, 0x01020304u)]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }, uint.MaxValue)]
    public void Credit_ReadsTheGrantBigEndian(byte[] payload, uint expected)
    {
        Assert.Null(StreamFrame.TryParse(Message(7, StreamFrameType.Credit, payload), out var frame));

        Assert.Equal(expected, frame.Credit);
    }

    public static TheoryData<byte[], string> InvalidMessages => new()
    {
        { [], "stream frame of 0 bytes is shorter than its 5-byte header" },
        { [0, 0, 0, 1], "stream frame of 4 bytes is shorter than its 5-byte header" },
        { Message(1, (StreamFrameType)4, []), "unknown stream frame type 4" },
        { Message(1, (StreamFrameType)255, [1, 2]), "unknown stream frame type 255" },
        { Message(1, StreamFrameType.Data, new byte[StreamFrame.MaxData + 1]), $"data frame of {StreamFrame.MaxData + 1} bytes is over the {StreamFrame.MaxData}-byte limit" },
        { Message(1, StreamFrameType.Fin, [0]), "fin frame with a payload" },
        { Message(1, StreamFrameType.Fin, "fin"u8.ToArray()), "fin frame with a payload" },
        { Message(1, StreamFrameType.Credit, []), "credit frame whose payload is not 4 bytes" },
        { Message(1, StreamFrameType.Credit, [0, 0, 1]), "credit frame whose payload is not 4 bytes" },
        { Message(1, StreamFrameType.Credit, [0, 0, 0, 1, 0]), "credit frame whose payload is not 4 bytes" },
        { Message(1, StreamFrameType.Close, [0x03]), "close frame with a 1-byte payload" },
        { Message(1, StreamFrameType.Close, Close(1000, new string('x', StreamFrame.MaxReasonBytes + 1))), "close frame with a 126-byte payload" },
        { Message(1, StreamFrameType.Close, Close(1005, "")), "close status 1005 may not be sent" },
        { Message(1, StreamFrameType.Close, Close(1006, "gone")), "close status 1006 may not be sent" },
        { Message(1, StreamFrameType.Close, Close(1004, "")), "close status 1004 may not be sent" },
        { Message(1, StreamFrameType.Close, Close(999, "")), "close status 999 may not be sent" },
        { Message(1, StreamFrameType.Close, Close(1015, "")), "close status 1015 may not be sent" },
        { Message(1, StreamFrameType.Close, Close(2999, "")), "close status 2999 may not be sent" },
        { Message(1, StreamFrameType.Close, Close(5000, "")), "close status 5000 may not be sent" },
        { Message(1, StreamFrameType.Close, [0x03, 0xE8, 0xC3, 0x28]), "close reason is not UTF-8" },
        { Message(1, StreamFrameType.Close, [0x03, 0xE8, 0xFF]), "close reason is not UTF-8" },
    };

    [Theory]
    [MemberData(nameof(InvalidMessages))]
    public void TryParse_MessageThatBreaksARule_ReturnsTheRuleAndNoFrame(byte[] message, string expected)
    {
        var error = StreamFrame.TryParse(message, out var frame);

        Assert.Equal(expected, error);
        Assert.Equal(default, frame);
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(1003)]
    [InlineData(1007)]
    [InlineData(1011)]
    [InlineData(1014)]
    [InlineData(3000)]
    [InlineData(4000)]
    public void TryParse_CloseWithASendableStatus_IsAccepted(int status)
    {
        Assert.Null(StreamFrame.TryParse(Message(1, StreamFrameType.Close, Close((ushort)status, "")), out var frame));
        Assert.Equal(status, BinaryPrimitives.ReadUInt16BigEndian(frame.Payload.Span));
    }

    [Fact]
    public void TryParse_OnAnyBytes_NeverThrows_AndAgreesWithTheWrittenRules()
    {
        // Mostly well-formed headers with a known or nearly known type, so the payload rules are reached as often as
        // the header rule; and plain noise.
        var nearFrame = Gen.Select(Gen.UInt, Gen.Byte[0, 5], Gen.Byte.Array[0, 140], (id, type, payload) => Message(id, (StreamFrameType)type, payload));
        var closeFrame = Gen.Select(Gen.UInt, Gen.UShort, Gen.Byte.Array[0, 130], (id, status, reason) =>
            Message(id, StreamFrameType.Close, [(byte)(status >> 8), (byte)status, .. reason]));
        var noise = Gen.Byte.Array[0, 64];
        Gen.OneOf(nearFrame, closeFrame, noise).Sample(message =>
        {
            var error = StreamFrame.TryParse(message, out var frame);

            Assert.Equal(ExpectedError(message), error is not null);
            if (error is null)
            {
                Assert.Equal(BinaryPrimitives.ReadUInt32BigEndian(message), frame.StreamId);
                Assert.Equal((StreamFrameType)message[4], frame.Type);
                Assert.Equal(message.AsSpan(StreamFrame.HeaderLength).ToArray(), frame.Payload.ToArray());
            }
            else
            {
                Assert.Equal(default, frame);
            }
        }, iter: 20_000);
    }

    [Fact]
    public void TryParse_CreditFrameCutShort_IsRefused()
    {
        // A cut header, or a credit that lost bytes, must not be read as a smaller grant.
        Gen.Select(Gen.UInt, Gen.Byte.Array[4, 4], Gen.Int[0, 8]).Sample((id, credit, keep) =>
        {
            var message = Message(id, StreamFrameType.Credit, credit)[..keep];

            Assert.NotNull(StreamFrame.TryParse(message, out _));
        });
    }

    /// <summary>The rules of the design note, written again independently of the codec.</summary>
    private static bool ExpectedError(byte[] message)
    {
        if (message.Length < StreamFrame.HeaderLength)
        {
            return true;
        }

        var payload = message.AsSpan(StreamFrame.HeaderLength);
        switch (message[4])
        {
            case 0:
                return payload.Length > StreamFrame.MaxData;
            case 1:
                return payload.Length != 0;
            case 3:
                return payload.Length != 4;
            case 2 when payload.Length == 0:
                return false;
            case 2 when payload.Length == 1 || payload.Length > 2 + StreamFrame.MaxReasonBytes:
                return true;
            case 2:
                int status = BinaryPrimitives.ReadUInt16BigEndian(payload);
                var allowed = status is (>= 1000 and <= 1003) or (>= 1007 and <= 1014) or (>= 3000 and <= 4999);
                if (!allowed)
                {
                    return true;
                }

                try
                {
                    StrictUtf8.GetString(payload[2..]);
                    return false;
                }
                catch (DecoderFallbackException)
                {
                    return true;
                }

            default:
                return true;
        }
    }

    internal static byte[] Message(uint streamId, StreamFrameType type, ReadOnlySpan<byte> payload)
    {
        var message = new byte[StreamFrame.HeaderLength + payload.Length];
        StreamFrame.WriteHeader(message, streamId, type);
        payload.CopyTo(message.AsSpan(StreamFrame.HeaderLength));
        return message;
    }

    internal static byte[] Close(ushort status, string reason)
    {
        var payload = new byte[2 + Encoding.UTF8.GetByteCount(reason)];
        BinaryPrimitives.WriteUInt16BigEndian(payload, status);
        Encoding.UTF8.GetBytes(reason, payload.AsSpan(2));
        return payload;
    }

    private static byte[] Pattern(int length)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)(i * 31 + 7);
        }

        return bytes;
    }
}
