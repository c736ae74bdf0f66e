using Porthole.Protocol.Control;

namespace Porthole.Fuzz;

/// <summary>
/// The fuzz target: any bytes may arrive as a control message. Parsing must never throw, and whatever parses must
/// survive a round trip unchanged. A violation throws <see cref="FuzzFindingException"/>, which the fuzzer records as
/// a crash.
/// </summary>
public static class ControlCodecTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        if (!ControlMessageSerializer.TryParse(input, out var message, out var error))
        {
            if (string.IsNullOrEmpty(error) || message is not null)
            {
                throw new FuzzFindingException("a refusal must carry a reason and no message");
            }

            return;
        }

        var again = ControlMessageSerializer.Serialize(message!);
        if (!ControlMessageSerializer.TryParse(again, out var reparsed, out var second) || !Equals(message, reparsed))
        {
            throw new FuzzFindingException($"round trip changed the message: {message} -> {reparsed} ({second})");
        }
    }
}

/// <summary>A property of the codec did not hold for some input.</summary>
public sealed class FuzzFindingException(string message) : Exception(message);
