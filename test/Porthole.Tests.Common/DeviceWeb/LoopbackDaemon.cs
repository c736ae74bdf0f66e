namespace Porthole.Tests.Common.DeviceWeb;

/// <summary>Starts a server process in the foreground on a loopback port and waits until it accepts connections.</summary>
internal static class LoopbackDaemon
{
    /// <summary>
    /// Starts <paramref name="start"/> on <paramref name="port"/> (or a free port when it is <c>null</c>). FreePort can
    /// race with another process, and a port just released can linger; "address already in use" is retried.
    /// </summary>
    public static async Task<(ProcessRunner Process, int Port)> StartAsync(string name, int? port, Func<int, ProcessRunner> start)
    {
        for (var attempt = 1; ; attempt++)
        {
            var chosen = port ?? FreePort.Get();
            var process = start(chosen);
            if (await FreePort.WaitUntilListeningAsync(chosen, TimeSpan.FromSeconds(20), () => process.HasExited))
            {
                return (process, chosen);
            }

            var output = process.CapturedOutput;
            await process.DisposeAsync();
            if (attempt == 5 || !output.Contains("in use", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException($"{name} did not start listening on 127.0.0.1:{chosen}.\n{output}");
            }

            await Task.Delay(200 * attempt);
        }
    }
}
