using Porthole.Server.Transport;

namespace Porthole.Server.Tests.Transport;

public sealed class HotThreadsTests
{
    [Fact]
    public async Task Work_RunsOnAHotThread_AndTheCapRefusesMore()
    {
        var threads = new HotThreads(maximum: 2);
        using var release = new ManualResetEventSlim();

        Assert.True(threads.TryRun(() => { release.Wait(); return HotThreads.OnHotThread; }, out var first));
        Assert.True(threads.TryRun(() => { release.Wait(); return HotThreads.OnHotThread; }, out var second));
        Assert.False(threads.TryRun(() => true, out _));
        Assert.False(HotThreads.OnHotThread);

        release.Set();
        Assert.True(await first);
        Assert.True(await second);

        // A thread that finished its work is reused rather than counted again (it is back once its work has returned).
        Task<int>? third = null;
        Assert.True(SpinWait.SpinUntil(() => threads.TryRun(() => 42, out third), TimeSpan.FromSeconds(5)));
        Assert.Equal(42, await third!);
        Assert.Equal(2, threads.Count);
    }

    [Fact]
    public async Task AFailure_ReachesTheCaller_AndTheThreadLivesOn()
    {
        var threads = new HotThreads(maximum: 1);

        Assert.True(threads.TryRun<int>(() => throw new IOException("gone"), out var failed));
        await Assert.ThrowsAsync<IOException>(() => failed);

        Task<int>? next = null;
        Assert.True(SpinWait.SpinUntil(() => threads.TryRun(() => 7, out next), TimeSpan.FromSeconds(5)));
        Assert.Equal(7, await next!);
    }
}
