using Porthole.Tunnel.Relay;

namespace Porthole.Tunnel.Tests.Relay;

public sealed class AdaptiveBufferTests
{
    [Fact]
    public void Memory_StartsSmall()
    {
        using var buffer = new AdaptiveBuffer(64 * 1024);
        Assert.Equal(AdaptiveBuffer.SmallSize, buffer.Memory.Length);
    }

    [Fact]
    public void Observe_FullSmallRead_GrowsToLargeSize()
    {
        using var buffer = new AdaptiveBuffer(64 * 1024);
        buffer.Observe(AdaptiveBuffer.SmallSize);
        Assert.Equal(64 * 1024, buffer.Memory.Length);
    }

    [Fact]
    public void Observe_LargeReadsKeepItLarge_SmallReadShrinksIt()
    {
        using var buffer = new AdaptiveBuffer(64 * 1024);
        buffer.Observe(AdaptiveBuffer.SmallSize);
        buffer.Observe(20_000);
        Assert.Equal(64 * 1024, buffer.Memory.Length);

        buffer.Observe(10);
        Assert.Equal(AdaptiveBuffer.SmallSize, buffer.Memory.Length);
    }

    [Fact]
    public void Memory_NeverExceedsLargeSize_WhenLargeSizeIsBelowSmallSize()
    {
        using var buffer = new AdaptiveBuffer(1024);
        Assert.Equal(1024, buffer.Memory.Length);
        buffer.Observe(1024);
        Assert.Equal(1024, buffer.Memory.Length);
    }

    [Fact]
    public void Memory_AfterDispose_Throws()
    {
        var buffer = new AdaptiveBuffer(4096);
        buffer.Dispose();
        buffer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => buffer.Memory);
    }
}
