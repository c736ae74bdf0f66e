using System.Text;
using Porthole.Tunnel.Relay;

namespace Porthole.Tunnel.Tests.Relay;

public sealed class DataFramesTests
{
    [Fact]
    public void Fin_IsTheAsciiTextFin()
    {
        Assert.Equal("fin", Encoding.ASCII.GetString(DataFrames.Fin.Span));
        Assert.True(DataFrames.IsFin("fin"u8));
        Assert.False(DataFrames.IsFin("FIN"u8));
        Assert.False(DataFrames.IsFin("fin\n"u8));
        Assert.False(DataFrames.IsFin(""u8));
    }

    [Theory]
    [InlineData("")]
    [InlineData("done")]
    [InlineData("target connection failed: connection reset by peer")]
    public void ClipReason_KeepsShortReasonsUnchanged(string reason)
    {
        Assert.Same(reason, DataFrames.ClipReason(reason));
    }

    [Fact]
    public void ClipReason_KeepsReasonOfExactly123BytesUnchanged()
    {
        var reason = new string('x', 123);

        Assert.Equal(reason, DataFrames.ClipReason(reason));
    }

    [Theory]
    [InlineData('x', 124)]
    [InlineData('x', 10_000)]
    [InlineData('é', 62)] // 124 bytes
    [InlineData('é', 500)]
    [InlineData('€', 200)] // 3 bytes each
    public void ClipReason_ClipsLongReasonsTo123Utf8BytesWithEllipsis(char c, int count)
    {
        var reason = "target connection failed: " + new string(c, count);

        var clipped = DataFrames.ClipReason(reason);

        Assert.InRange(Encoding.UTF8.GetByteCount(clipped), 100, 123);
        Assert.EndsWith("...", clipped, StringComparison.Ordinal);
        Assert.StartsWith(clipped[..^3], reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ClipReason_NeverSplitsASurrogatePair()
    {
        // Emoji are 4 UTF-8 bytes and two UTF-16 chars; a cut between the halves leaves an invalid string
        // that the close frame would carry as U+FFFD.
        var reason = "a" + string.Concat(Enumerable.Repeat("😀", 40));

        var clipped = DataFrames.ClipReason(reason);

        Assert.True(Encoding.UTF8.GetByteCount(clipped) <= 123);
        Assert.EndsWith("...", clipped, StringComparison.Ordinal);
        var strict = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        var exception = Record.Exception(() => strict.GetBytes(clipped));
        Assert.Null(exception);
    }
}
