using Porthole.Protocol.Control;

namespace Porthole.Protocol.Tests.Control;

public sealed class ControlProtocolTests
{
    [Fact]
    public void Negotiate_WhenPeerSpeaksExactlyOurRange_PicksOurMaxVersion()
    {
        Assert.Equal(ControlProtocol.MaxVersion, ControlProtocol.Negotiate(ControlProtocol.MinVersion, ControlProtocol.MaxVersion));
    }

    [Fact]
    public void Negotiate_WhenPeerIsNewerButOverlaps_PicksHighestCommonVersion()
    {
        Assert.Equal(ControlProtocol.MaxVersion, ControlProtocol.Negotiate(ControlProtocol.MinVersion, ControlProtocol.MaxVersion + 5));
    }

    [Fact]
    public void Negotiate_WhenPeerIsOlderButOverlaps_PicksPeersMaxVersion()
    {
        Assert.Equal(ControlProtocol.MinVersion, ControlProtocol.Negotiate(0, ControlProtocol.MinVersion));
    }

    [Fact]
    public void Negotiate_WhenPeerIsEntirelyNewer_ReturnsNull()
    {
        Assert.Null(ControlProtocol.Negotiate(ControlProtocol.MaxVersion + 1, ControlProtocol.MaxVersion + 3));
    }

    [Fact]
    public void Negotiate_WhenPeerIsEntirelyOlder_ReturnsNull()
    {
        Assert.Null(ControlProtocol.Negotiate(ControlProtocol.MinVersion - 3, ControlProtocol.MinVersion - 1));
    }

    [Fact]
    public void Negotiate_WhenPeerRangeIsInverted_ReturnsNull()
    {
        Assert.Null(ControlProtocol.Negotiate(ControlProtocol.MaxVersion + 1, ControlProtocol.MinVersion - 1));
    }

    [Fact]
    public void MaxMessageBytes_Is64KiB_AsTheDesignSays()
    {
        Assert.Equal(64 * 1024, ControlProtocol.MaxMessageBytes);
    }
}
