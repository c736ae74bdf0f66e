using System.Text;

namespace Porthole.Protocol.Rfb;

/// <summary>An RFB ProtocolVersion message, <c>RFB xxx.yyy\n</c> (RFC 6143 §7.1.1).</summary>
public readonly record struct RfbVersion(int Major, int Minor)
{
    /// <summary>Length of the ProtocolVersion message.</summary>
    public const int Length = 12;

    public static RfbVersion V33 { get; } = new(3, 3);

    public static RfbVersion V37 { get; } = new(3, 7);

    public static RfbVersion V38 { get; } = new(3, 8);

    /// <summary>Parses the 12-byte message; <c>false</c> for anything that is not <c>RFB ddd.ddd\n</c>.</summary>
    public static bool TryParse(ReadOnlySpan<byte> message, out RfbVersion version)
    {
        version = default;
        if (message.Length != Length || !message[..4].SequenceEqual("RFB "u8) || message[7] != (byte)'.' || message[11] != (byte)'\n'
            || !TryDigits(message[4..7], out var major) || !TryDigits(message[8..11], out var minor))
        {
            return false;
        }

        version = new RfbVersion(major, minor);
        return true;
    }

    /// <summary>
    /// The version a client should answer a server with. Only 3.3, 3.7 and 3.8 exist; a client never asks for more
    /// than the server offers. Newer announcements (RealVNC's 5.0, Apple's 3.889) speak the 3.8 handshake; other
    /// unknown 3.x are treated as 3.3, as the RFC says.
    /// </summary>
    public RfbVersion Negotiate() => this switch
    {
        { Major: > 3 } or { Major: 3, Minor: >= 8 } => V38,
        { Major: 3, Minor: 7 } => V37,
        _ => V33,
    };

    /// <summary>The 12-byte message for this version.</summary>
    public byte[] ToMessage() => Encoding.ASCII.GetBytes($"RFB {Major:D3}.{Minor:D3}\n");

    public override string ToString() => $"{Major}.{Minor}";

    private static bool TryDigits(ReadOnlySpan<byte> digits, out int value)
    {
        value = 0;
        foreach (var digit in digits)
        {
            if (digit is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            value = (value * 10) + (digit - '0');
        }

        return true;
    }
}
