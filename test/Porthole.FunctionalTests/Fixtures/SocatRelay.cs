using System.Globalization;

namespace Porthole.FunctionalTests.Fixtures;

/// <summary>
/// socat forwarding 127.0.0.1:Port to a target, one child process per connection, so a test can cut one
/// connection (kill its child) and leave the others alone — as a NAT timeout or a flaky uplink would.
/// </summary>
public sealed class SocatRelay : IAsyncDisposable
{
    private ProcessRunner? _process;

    public int Port { get; private set; }

    public static async Task<SocatRelay> StartAsync(int targetPort)
    {
        var relay = new SocatRelay { Port = FreePort.Get() };
        relay._process = ProcessRunner.Start("socat", [
            string.Create(CultureInfo.InvariantCulture, $"TCP-LISTEN:{relay.Port},bind=127.0.0.1,fork,reuseaddr"),
            string.Create(CultureInfo.InvariantCulture, $"TCP:127.0.0.1:{targetPort}")]);
        if (!await FreePort.WaitUntilListeningAsync(relay.Port, TimeSpan.FromSeconds(15), () => relay._process.HasExited))
        {
            throw new InvalidOperationException("socat did not start: " + relay._process.CapturedOutput);
        }

        return relay;
    }

    /// <summary>Kills the child that carries the oldest open connection.</summary>
    public async Task CutOldestConnectionAsync()
    {
        var children = await ProcessRunner.RunAsync("ps", ["-o", "pid=", "--ppid", _process!.Id.ToString(CultureInfo.InvariantCulture), "--sort=start_time"]);
        var oldest = children.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).First();
        var kill = await ProcessRunner.RunAsync("kill", ["-9", oldest]);
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException("could not kill socat child: " + kill);
        }
    }

    /// <summary>SIGSTOPs socat and every connection it carries: the link goes silent, no FIN, no RST.</summary>
    public Task FreezeAsync() => SignalAllAsync("STOP");

    /// <summary>SIGCONTs what <see cref="FreezeAsync"/> stopped.</summary>
    public Task ThawAsync() => SignalAllAsync("CONT");

    private async Task SignalAllAsync(string signal)
    {
        var children = await ProcessRunner.RunAsync("ps", ["-o", "pid=", "--ppid", _process!.Id.ToString(CultureInfo.InvariantCulture)]);
        foreach (var child in children.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            await Signals.SendAsync(int.Parse(child, CultureInfo.InvariantCulture), signal);
        }

        await Signals.SendAsync(_process.Id, signal);
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }
    }
}
