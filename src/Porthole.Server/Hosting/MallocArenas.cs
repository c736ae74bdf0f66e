using System.Runtime.InteropServices;

namespace Porthole.Server.Hosting;

/// <summary>
/// Caps how many malloc arenas glibc keeps for the server (<c>mallopt(M_ARENA_MAX)</c>, what the
/// <c>MALLOC_ARENA_MAX</c> variable sets at start-up). Each thread that allocates natively — OpenSSL does, for every
/// TLS connection — may get an arena of its own, up to eight per core, and memory freed in one arena is not reused
/// by another: with a thousand idle TLS sessions the server's PSS was ≈7 KiB per session higher with glibc's default
/// than with two arenas (docs/performance.md, ab/27). The cap is set first thing in <c>Main</c>: arenas made before
/// it stay. A <c>MALLOC_ARENA_MAX</c> the operator set wins (eight per core is glibc's own limit); on a C library
/// without <c>mallopt</c> (musl) nothing happens.
/// </summary>
internal static class MallocArenas
{
    /// <summary>The server's cap: two arenas serve two busy threads at once without contention.</summary>
    public const int Default = 2;

    // malloc.h: M_ARENA_MAX.
    private const int ArenaMaxParameter = -8;

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int Mallopt(int parameter, int value);

    /// <summary>Applies <paramref name="arenas"/> (0 leaves glibc's default); says whether the cap is in effect.</summary>
    public static bool Limit(int arenas)
    {
        if (arenas == 0 || !OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is not null)
        {
            return false;
        }

        if (!NativeLibrary.TryLoad("libc.so.6", out var libc) || !NativeLibrary.TryGetExport(libc, "mallopt", out var export))
        {
            return false;
        }

        // Arenas made before this call stay; threads that need one later share those up to the cap.
        return Marshal.GetDelegateForFunctionPointer<Mallopt>(export)(ArenaMaxParameter, arenas) == 1;
    }
}
