using System.Security.Cryptography;

namespace Porthole.Server.WebProxy;

/// <summary>
/// Web session ids: 128 random bits in lowercase base32 (26 characters), so an id is a valid DNS label in any
/// letter case (host names are case-insensitive, so base64 would lose bits) and names its own origin.
/// </summary>
public static class WebSessionId
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";
    public const int Length = 26;

    public static string Create() => Encode(RandomNumberGenerator.GetBytes(16));

    /// <summary>Whether a host label could be a session id (checked before any lookup).</summary>
    public static bool IsWellFormed(ReadOnlySpan<char> label)
    {
        if (label.Length != Length)
        {
            return false;
        }

        foreach (var c in label)
        {
            if (!Alphabet.Contains(c))
            {
                return false;
            }
        }

        return true;
    }

    private static string Encode(byte[] bytes)
    {
        Span<char> text = stackalloc char[Length];
        int bits = 0, value = 0, position = 0;
        foreach (var b in bytes)
        {
            value = (value << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                text[position++] = Alphabet[(value >> (bits - 5)) & 31];
                bits -= 5;
            }
        }

        if (bits > 0)
        {
            text[position++] = Alphabet[(value << (5 - bits)) & 31];
        }

        return new string(text[..position]);
    }
}
