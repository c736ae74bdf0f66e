using CsCheck;
using Porthole.Protocol.Control;

namespace Porthole.Protocol.Tests.Control;

/// <summary>Random control messages of every type, with strings over the whole BMP (quotes, controls, non-Latin) but no lone surrogates.</summary>
public static class ControlMessageGen
{
    // JSON cannot carry a lone surrogate (the serializer replaces it), so text is drawn from the rest of the BMP;
    // astral characters come in as valid pairs.
    private static readonly Gen<char> Bmp = Gen.Char['\0', '\uD7FF'];

    private static readonly Gen<string> Astral = Gen.Int[0x10000, 0x10FFFF].Select(char.ConvertFromUtf32);

    public static readonly Gen<string> Text = Gen.OneOf(
        Gen.String[Bmp, 0, 40],
        Gen.String[Gen.Char["\"\\/\n\r\t\u2028\u0000{}[]:,"], 0, 12],
        Astral.Array[0, 4].Select(parts => string.Concat(parts)));

    public static readonly Gen<ControlMessage> Message = Gen.OneOf<ControlMessage>(
        Gen.Select(Gen.Int, Gen.Int, Text, Gen.Bool, Text.Null(), (min, max, version, enabled, host) => new HelloMessage(min, max, version, enabled, host)),
        Gen.Select(Gen.Int, Text, Text, (version, id, name) => new WelcomeMessage(version, id, name)),
        Gen.Select(Text, Text, (code, message) => new RejectMessage(code, message)),
        Gen.Bool.Select(enabled => new AgentStatusMessage(enabled)),
        Gen.Select(Text, Text, Text, Gen.Int[0, 65535], Gen.Int, (id, key, host, port, timeout) => new OpenSessionMessage(id, key, host, port, timeout)),
        Gen.Select(Text, Gen.Enum<OpenFailureReason>(), Text, (id, reason, message) => new OpenFailedMessage(id, reason, message)));
}
