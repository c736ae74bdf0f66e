using System.Globalization;

namespace Porthole.Tests.Common;

/// <summary>POSIX signals to processes a test started: SIGTERM (a service stop), SIGKILL (a crash), SIGSTOP/SIGCONT (a frozen peer).</summary>
public static class Signals
{
    /// <summary>Runs <c>kill -SIGNAL PID</c>; <paramref name="signal"/> is a name such as <c>TERM</c>, <c>KILL</c>, <c>STOP</c>, <c>CONT</c>.</summary>
    public static async Task SendAsync(int processId, string signal)
    {
        var result = await ProcessRunner.RunAsync("kill", ["-" + signal, processId.ToString(CultureInfo.InvariantCulture)]);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {processId} failed: {result}");
        }
    }
}
