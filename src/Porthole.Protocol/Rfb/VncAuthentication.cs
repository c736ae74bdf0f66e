using System.Security.Cryptography;

namespace Porthole.Protocol.Rfb;

/// <summary>
/// The response to a VNC Authentication challenge (RFC 6143 §7.2.2): the 16-byte challenge encrypted with DES, keyed
/// by the password's first 8 bytes with each byte's bits reversed (an artefact of the original implementation).
/// DES is what the protocol defines; this is interoperability, not a choice of cipher.
/// </summary>
public static class VncAuthentication
{
    public const int ChallengeLength = 16;

    public static byte[] Respond(ReadOnlySpan<byte> challenge, string password)
    {
        if (challenge.Length != ChallengeLength)
        {
            throw new ArgumentException("a VNC challenge is 16 bytes", nameof(challenge));
        }

        var key = new byte[8];
        for (var i = 0; i < key.Length && i < password.Length; i++)
        {
            key[i] = ReverseBits((byte)password[i]);
        }

#pragma warning disable CA5351 // RFC 6143 §7.2.2 mandates DES; there is no other way to speak VNC Authentication.
        using var des = DES.Create();
#pragma warning restore CA5351
        des.Key = key;
        return des.EncryptEcb(challenge, PaddingMode.None);
    }

    private static byte ReverseBits(byte value)
    {
        var result = 0;
        for (var bit = 0; bit < 8; bit++)
        {
            result = (result << 1) | ((value >> bit) & 1);
        }

        return (byte)result;
    }
}
