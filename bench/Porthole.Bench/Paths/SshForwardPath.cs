using System.Globalization;
using Porthole.Tests.Common;

namespace Porthole.Bench.Paths;

/// <summary><c>ssh -L</c> to a local sshd, forwarding both targets, with the default cipher or a chosen one.</summary>
public sealed class SshForwardPath : BenchPath
{
    private readonly SshdFixture _sshd;
    private readonly string? _cipher;
    private ProcessRunner? _ssh;

    private SshForwardPath(SshdFixture sshd, string? cipher)
    {
        _sshd = sshd;
        _cipher = cipher;
    }

    public override string Key => _cipher is null ? "ssh-default" : "ssh-" + _cipher.Split('@')[0];

    public override string Label => _cipher is null ? "ssh -L (default cipher)" : $"ssh -L ({_cipher.Split('@')[0]})";

    /// <summary>The sshd session processes (children of the listener) relay the server side.</summary>
    public override IEnumerable<int> ServerPids => ProcessTree.Descendants(_sshd.Process.Id);

    public override IEnumerable<int> ChainPids => [.. ServerPids, _ssh!.Id];

    public static async Task<SshForwardPath> StartAsync(SshdFixture sshd, string? cipher, int iperfPort, int echoPort)
    {
        var path = new SshForwardPath(sshd, cipher);
        for (var attempt = 1; ; attempt++)
        {
            path.IperfPort = FreePort.Get();
            path.EchoPort = FreePort.Get();
            List<string> extra = ["-N", "-o", "ExitOnForwardFailure=yes", "-p", sshd.Port.ToString(CultureInfo.InvariantCulture),
                "-L", $"127.0.0.1:{path.IperfPort}:127.0.0.1:{iperfPort}", "-L", $"127.0.0.1:{path.EchoPort}:127.0.0.1:{echoPort}"];
            if (cipher is not null)
            {
                extra.AddRange(["-c", cipher]);
            }

            path._ssh = ProcessRunner.Start("ssh", [.. sshd.SshArgs([.. extra]), sshd.Destination]);
            if (await FreePort.WaitUntilListeningAsync(path.EchoPort, TimeSpan.FromSeconds(20), () => path._ssh.HasExited)
                && await FreePort.WaitUntilListeningAsync(path.IperfPort, TimeSpan.FromSeconds(5), () => path._ssh.HasExited))
            {
                return path;
            }

            var output = path._ssh.CapturedOutput;
            await path._ssh.DisposeAsync();
            if (attempt == 3)
            {
                throw new InvalidOperationException("ssh -L did not start: " + output);
            }
        }
    }

    public override async ValueTask DisposeAsync()
    {
        if (_ssh is not null)
        {
            await _ssh.DisposeAsync();
        }

        await base.DisposeAsync();
    }
}
