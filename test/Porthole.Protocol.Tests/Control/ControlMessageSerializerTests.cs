using System.Text;
using System.Text.Json;
using Porthole.Protocol.Control;

namespace Porthole.Protocol.Tests.Control;

public sealed class ControlMessageSerializerTests
{
    public static TheoryData<ControlMessage, string> Messages => new()
    {
        { new HelloMessage(1, 2, "0.1.0", true, "gw-01"), "hello" },
        { new HelloMessage(1, 1, "0.1.0", false, null), "hello" },
        { new WelcomeMessage(1, "dev_123", "Gateway 1"), "welcome" },
        { new RejectMessage("incompatible-version", "server speaks 1..1, agent 2..3"), "reject" },
        { new AgentStatusMessage(false), "status" },
        { new OpenSessionMessage("s1", "key", "10.0.0.5", 22, 5000), "open" },
        { new OpenFailedMessage("s1", OpenFailureReason.Refused, "connection refused"), "open-failed" },
    };

    [Theory]
    [MemberData(nameof(Messages))]
    public void Serialize_ThenTryParse_RoundTripsWithTypeDiscriminator(ControlMessage message, string type)
    {
        var bytes = ControlMessageSerializer.Serialize(message);

        var json = Encoding.UTF8.GetString(bytes);
        Assert.StartsWith($"{{\"type\":\"{type}\"", json, StringComparison.Ordinal);
        Assert.True(ControlMessageSerializer.TryParse(bytes, out var parsed, out var error), error);
        Assert.Null(error);
        Assert.Equal(message, parsed);
    }

    [Fact]
    public void Serialize_UsesCamelCasePropertyNames()
    {
        var json = Encoding.UTF8.GetString(ControlMessageSerializer.Serialize(new OpenSessionMessage("s1", "k1", "db", 5432, 3000)));

        Assert.Equal("""{"type":"open","sessionId":"s1","sessionKey":"k1","host":"db","port":5432,"connectTimeoutMs":3000}""", json);
    }

    [Fact]
    public void Serialize_WritesTheStreamsFieldsOnlyWhenSet_SoOlderPeersSeeTheMessagesTheyKnow()
    {
        var open = Encoding.UTF8.GetString(ControlMessageSerializer.Serialize(new OpenSessionMessage("s1", "", "db", 5432, 3000, StreamId: 7)));
        var hello = Encoding.UTF8.GetString(ControlMessageSerializer.Serialize(new HelloMessage(1, 1, "0.1.0", true, "gw", Streams: true)));
        var oldWelcome = Encoding.UTF8.GetString(ControlMessageSerializer.Serialize(new WelcomeMessage(1, "d1", "gw")));

        Assert.Equal("""{"type":"open","sessionId":"s1","sessionKey":"","host":"db","port":5432,"connectTimeoutMs":3000,"streamId":7}""", open);
        Assert.EndsWith(""","streams":true}""", hello, StringComparison.Ordinal);
        Assert.Equal("""{"type":"welcome","version":1,"deviceId":"d1","deviceName":"gw"}""", oldWelcome);
    }

    [Fact]
    public void TryParse_AcceptsWhatThePeerWrites()
    {
        var json = """{"type":"hello","minVersion":1,"maxVersion":3,"agentVersion":"9.9","remoteAccessEnabled":true,"hostname":"edge"}"""u8;

        Assert.True(ControlMessageSerializer.TryParse(json, out var message, out var error), error);
        Assert.Equal(new HelloMessage(1, 3, "9.9", true, "edge"), message);
    }

    [Theory]
    [InlineData(OpenFailureReason.Refused)]
    [InlineData(OpenFailureReason.Unreachable)]
    [InlineData(OpenFailureReason.Timeout)]
    [InlineData(OpenFailureReason.Disabled)]
    [InlineData(OpenFailureReason.ServerUnreachable)]
    public void OpenFailureReason_SerializesAsStringAndRoundTrips(OpenFailureReason reason)
    {
        var bytes = ControlMessageSerializer.Serialize(new OpenFailedMessage("s1", reason, "why"));

        using var document = JsonDocument.Parse(bytes);
        var property = document.RootElement.GetProperty("reason");
        Assert.Equal(JsonValueKind.String, property.ValueKind);
        Assert.Equal(reason.ToString(), property.GetString(), ignoreCase: true);
        Assert.True(ControlMessageSerializer.TryParse(bytes, out var parsed, out _));
        Assert.Equal(reason, Assert.IsType<OpenFailedMessage>(parsed).Reason);
    }

    [Theory]
    [InlineData("{\"type\":\"hello\",")]
    [InlineData("not json at all")]
    [InlineData("")]
    [InlineData("[1,2,3]")]
    [InlineData("42")]
    [InlineData("{\"type\":\"open\",\"port\":\"twenty-two\"}")]
    [InlineData("{\"type\":17}")]
    public void TryParse_WhenJsonIsMalformed_ReturnsFalseWithError(string input)
    {
        AssertRejected(Encoding.UTF8.GetBytes(input));
    }

    [Fact]
    public void TryParse_WhenTypeIsUnknown_ReturnsFalseWithError()
    {
        AssertRejected("""{"type":"self-destruct","sessionId":"s1"}"""u8.ToArray());
    }

    [Fact]
    public void TryParse_WhenTypeIsMissing_ReturnsFalseWithError()
    {
        AssertRejected("""{"sessionId":"s1","sessionKey":"k","host":"h","port":1,"connectTimeoutMs":1}"""u8.ToArray());
    }

    [Theory]
    [InlineData("{\"type\":\"open\"}")]
    [InlineData("{\"type\":\"open\",\"sessionId\":\"s1\",\"port\":22,\"connectTimeoutMs\":1000}")]
    [InlineData("{\"type\":\"open\",\"sessionId\":\"s1\",\"sessionKey\":null,\"host\":\"h\",\"port\":22,\"connectTimeoutMs\":1000}")]
    [InlineData("{\"type\":\"welcome\",\"version\":1}")]
    public void TryParse_WhenNonNullablePropertyIsMissingOrNull_ReturnsFalseWithError(string input)
    {
        // The records declare these strings non-nullable; a parse that "succeeds" with nulls in them moves the
        // failure from the parser (a typed result) to whoever dereferences the field later (STYLE.md habit 4).
        AssertRejected(Encoding.UTF8.GetBytes(input));
    }

    [Fact]
    public void TryParse_WhenJsonIsNull_ReturnsFalseWithError()
    {
        AssertRejected("null"u8.ToArray());
    }

    [Fact]
    public void TryParse_WhenInputIsInvalidUtf8_ReturnsFalseWithError()
    {
        AssertRejected([(byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}']);
    }

    [Fact]
    public void TryParse_WhenInputExceedsMaxMessageBytes_ReturnsFalseWithError()
    {
        // A well-formed message that is one byte too long must be refused before it is parsed.
        var prefix = "{\"type\":\"reject\",\"code\":\"x\",\"message\":\""u8.ToArray();
        var suffix = "\"}"u8.ToArray();
        var padding = ControlProtocol.MaxMessageBytes + 1 - prefix.Length - suffix.Length;
        var input = prefix.Concat(Enumerable.Repeat((byte)'a', padding)).Concat(suffix).ToArray();
        Assert.Equal(ControlProtocol.MaxMessageBytes + 1, input.Length);

        var error = AssertRejected(input);
        Assert.Contains("too large", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_WhenInputIsExactlyMaxMessageBytes_IsAccepted()
    {
        var prefix = "{\"type\":\"reject\",\"code\":\"x\",\"message\":\""u8.ToArray();
        var suffix = "\"}"u8.ToArray();
        var padding = ControlProtocol.MaxMessageBytes - prefix.Length - suffix.Length;
        var input = prefix.Concat(Enumerable.Repeat((byte)'a', padding)).Concat(suffix).ToArray();

        Assert.True(ControlMessageSerializer.TryParse(input, out var message, out var error), error);
        Assert.Equal(padding, Assert.IsType<RejectMessage>(message).Message.Length);
    }

    private static string AssertRejected(byte[] input)
    {
        var ok = true;
        ControlMessage? message = null;
        string? error = null;
        var exception = Record.Exception(() => ok = ControlMessageSerializer.TryParse(input, out message, out error));

        Assert.Null(exception);
        Assert.False(ok);
        Assert.Null(message);
        Assert.False(string.IsNullOrWhiteSpace(error));
        return error!;
    }
}
