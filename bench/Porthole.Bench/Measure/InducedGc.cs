using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;

namespace Porthole.Bench.Measure;

/// <summary>
/// Makes a .NET process run a full blocking GC from outside, through its diagnostics port: an EventPipe session with
/// the runtime's GCHeapCollect keyword induces one (what dotnet-gcdump does). Memory per idle session is otherwise
/// swamped by the garbage that opening the sessions left behind.
/// </summary>
public static class InducedGc
{
    private const long GcHeapCollectKeyword = 0x800000;

    /// <summary>Induces a full GC in <paramref name="pid"/>; false if the process does not answer.</summary>
    public static async Task<bool> CollectAsync(int pid)
    {
        try
        {
            var client = new DiagnosticsClient(pid);
            using var session = await client.StartEventPipeSessionAsync(
                [new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Informational, GcHeapCollectKeyword)], requestRundown: false, circularBufferMB: 16, CancellationToken.None);
            var drain = session.EventStream.CopyToAsync(Stream.Null);
            await Task.Delay(TimeSpan.FromSeconds(1));
            await session.StopAsync(CancellationToken.None);
            await drain.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return true;
        }
        catch (Exception ex) when (ex is ServerNotAvailableException or UnsupportedCommandException or IOException or TimeoutException or ServerErrorException)
        {
            return false;
        }
    }
}
