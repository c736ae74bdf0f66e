using System.Globalization;
using Porthole.Tests.Common;

namespace Porthole.Tunnel.Tests.Fixtures;

/// <summary>Self-test of the shared sshd fixture that the functional tests tunnel SSH to.</summary>
public sealed class SshdFixtureTests(SshdFixture sshd) : IClassFixture<SshdFixture>
{
    [Fact]
    public async Task Ssh_WithClientKey_RunsRemoteCommand()
    {
        var result = await ProcessRunner.RunAsync(
            "ssh",
            sshd.SshArgs("-p", sshd.Port.ToString(CultureInfo.InvariantCulture), sshd.Destination, "echo", "hello"),
            timeout: TimeSpan.FromSeconds(20));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("hello", result.StandardOutput.Trim());
    }

    [Fact]
    public async Task KnownHostsLine_LetsStrictHostKeyCheckingPass()
    {
        using var directory = new TempDirectory();
        var knownHosts = directory.WriteFile("known_hosts", sshd.KnownHostsLine + "\n");

        // Spelled out instead of SshArgs: ssh keeps the first value of an -o option, so SshArgs' defaults would win.
        var result = await ProcessRunner.RunAsync(
            "ssh",
            [
                "-i", sshd.ClientKeyPath, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
                "-o", "StrictHostKeyChecking=yes", "-o", $"UserKnownHostsFile={knownHosts}",
                "-p", sshd.Port.ToString(CultureInfo.InvariantCulture), sshd.Destination, "true",
            ],
            timeout: TimeSpan.FromSeconds(20));

        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public async Task Process_LogsAcceptedPublicKeyLogin()
    {
        var result = await ProcessRunner.RunAsync(
            "ssh",
            sshd.SshArgs("-p", sshd.Port.ToString(CultureInfo.InvariantCulture), sshd.Destination, "true"),
            timeout: TimeSpan.FromSeconds(20));
        Assert.True(result.ExitCode == 0, result.ToString());

        var line = await sshd.Process.WaitForLineAsync(l => l.Contains("Accepted publickey", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        Assert.Contains(sshd.User, line, StringComparison.Ordinal);
    }
}
