using Porthole.Server.Hosting;

namespace Porthole.Server.Tests;

/// <summary>The server caps glibc's malloc arenas when it starts, unless the operator set <c>MALLOC_ARENA_MAX</c>.</summary>
public sealed class MallocArenasTests
{
    [Fact]
    public void Limit_TakesEffectOnGlibc_AndZeroLeavesTheDefault()
    {
        // The test machines run Debian (glibc); an operator's MALLOC_ARENA_MAX would win, and none is set here.
        Assert.Null(Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX"));

        Assert.True(MallocArenas.Limit(MallocArenas.Default));
        Assert.False(MallocArenas.Limit(0));
    }
}
