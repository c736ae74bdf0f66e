using CsCheck;
using Porthole.Tunnel.Frames;

namespace Porthole.Tunnel.Tests.Frames;

/// <summary>Unmasking (RFC 6455 section 5.3) in pieces of any size gives what the byte-by-byte rule gives.</summary>
public sealed class FrameMaskTests
{
    [Fact]
    public void UnmaskCopy_InPiecesOfAnySize_MatchesTheRuleByteByByte()
    {
        Gen.Select(Gen.Byte.Array[0, 2000], Gen.UInt, Gen.Int[1, 300]).Sample((payload, key, piece) =>
        {
            var expected = new byte[payload.Length];
            for (var i = 0; i < payload.Length; i++)
            {
                expected[i] = (byte)(payload[i] ^ (byte)(key >> (8 * (i % 4))));
            }

            var actual = new byte[payload.Length];
            var mask = key;
            for (var offset = 0; offset < payload.Length; offset += piece)
            {
                var length = Math.Min(piece, payload.Length - offset);
                FrameMask.UnmaskCopy(payload.AsSpan(offset, length), actual.AsSpan(offset), ref mask);
            }

            Assert.Equal(expected, actual);
        });
    }

    [Fact]
    public void UnmaskCopy_ToAShorterDestination_Throws()
    {
        var mask = 0u;
        Assert.Throws<ArgumentException>(() => FrameMask.UnmaskCopy(new byte[10], new byte[9], ref mask));
    }
}
