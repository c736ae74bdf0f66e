using System.Text.Json;

namespace Porthole.Protocol.Control;

/// <summary>Reads and writes control messages. Bad input from the network is a typed result, never an exception.</summary>
public static class ControlMessageSerializer
{
    /// <summary>Serializes a message to UTF-8 JSON.</summary>
    public static byte[] Serialize(ControlMessage message) =>
        JsonSerializer.SerializeToUtf8Bytes(message, ControlJsonContext.Default.ControlMessage);

    /// <summary>
    /// Parses one control message. Returns <c>false</c> with a short reason when the input is not a known message.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8Json, out ControlMessage? message, out string? error)
    {
        message = null;
        error = null;
        if (utf8Json.Length > ControlProtocol.MaxMessageBytes)
        {
            error = "control message too large";
            return false;
        }

        try
        {
            message = JsonSerializer.Deserialize(utf8Json, ControlJsonContext.Default.ControlMessage);
        }
        catch (JsonException ex)
        {
            // Unknown "type" values and malformed JSON both land here; the peer gets a reject, not a crash.
            error = "malformed control message: " + ex.Message;
            return false;
        }
        catch (NotSupportedException ex)
        {
            error = "unsupported control message: " + ex.Message;
            return false;
        }

        if (message is null)
        {
            error = "empty control message";
            return false;
        }

        return true;
    }
}
