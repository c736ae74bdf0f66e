using System.Globalization;
using System.Text.Json;
using Porthole.Tests.Common;

namespace Porthole.Bench.Measure;

/// <summary>iperf3 as the throughput target and client (<c>-J</c> output).</summary>
public static class Iperf
{
    /// <summary>Starts <c>iperf3 -s</c> on a free loopback port.</summary>
    public static async Task<(ProcessRunner Server, int Port)> StartServerAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort.Get();
            var server = ProcessRunner.Start("iperf3", ["-s", "-B", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture)]);
            if (await FreePort.WaitUntilListeningAsync(port, TimeSpan.FromSeconds(10), () => server.HasExited))
            {
                return (server, port);
            }

            await server.DisposeAsync();
            if (attempt == 3)
            {
                throw new InvalidOperationException("iperf3 -s did not start");
            }
        }
    }

    /// <summary>One client run; returns received bits/s and bytes (receiver side).</summary>
    public static async Task<(double BitsPerSecond, long Bytes)> RunAsync(int port, int streams, bool reverse, double seconds)
    {
        List<string> arguments = ["-c", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-J",
            "-t", seconds.ToString(CultureInfo.InvariantCulture), "-P", streams.ToString(CultureInfo.InvariantCulture)];
        if (reverse)
        {
            arguments.Add("-R");
        }

        // The iperf3 server serves one test at a time and may still be tearing down the previous one ("the server
        // is busy"); a failed run is retried after a pause and the error is shown if it persists.
        for (var attempt = 1; ; attempt++)
        {
            var result = await ProcessRunner.RunAsync("iperf3", arguments, timeout: TimeSpan.FromSeconds(seconds + 60));
            string error;
            try
            {
                using var json = JsonDocument.Parse(result.StandardOutput);
                if (json.RootElement.TryGetProperty("end", out var end) && end.TryGetProperty("sum_received", out var received))
                {
                    return (received.GetProperty("bits_per_second").GetDouble(), (long)received.GetProperty("bytes").GetDouble());
                }

                error = json.RootElement.TryGetProperty("error", out var message) ? message.GetString() ?? "" : "no end.sum_received";
            }
            catch (JsonException)
            {
                error = result.ToString();
            }

            if (attempt == 3)
            {
                throw new InvalidOperationException($"iperf3 {string.Join(' ', arguments)} failed: {error}");
            }

            Console.Error.WriteLine($"iperf3 attempt {attempt} failed ({error}); retrying");
            await Task.Delay(TimeSpan.FromSeconds(2));
        }
    }
}
