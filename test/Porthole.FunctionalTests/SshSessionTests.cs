using System.Globalization;
using System.Security.Cryptography;
using Porthole.FunctionalTests.Fixtures;

namespace Porthole.FunctionalTests;

/// <summary>Real OpenSSH sessions carried end to end: ssh/scp → porthole CLI → server → agent → sshd.</summary>
[Collection(StackCollection.Name)]
public sealed class SshSessionTests(PortholeStack stack) : IAsyncLifetime
{
    private string _device = "";

    public async Task InitializeAsync()
    {
        _device = "ssh-gw-" + Guid.NewGuid().ToString("N")[..8];
        await stack.StartGatewayAsync(_device);
        await stack.AddSshEndpointAsync(_device);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Ssh_WithConnectAsProxyCommand_RunsRemoteCommand()
    {
        var result = await stack.SshThroughPortholeAsync($"{_device}/ssh", "echo", "hello");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("hello", result.StandardOutput.Trim());

        // The CLI and the agent speak HTTP/1.1 and the server takes no part in an SSH tunnel: the frame relay carried it.
        var opened = await stack.Server.WaitForLineAsync(l => l.Contains($" to {_device}/ssh", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        var sessionId = opened[(opened.IndexOf("Session ", StringComparison.Ordinal) + 8)..].Split(' ')[0];
        var ended = await stack.Server.WaitForLineAsync(l => l.Contains($"Session {sessionId} ended:", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        Assert.EndsWith("(frame relay)", ended, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scp_ThroughForward_CopiesA64MiBFileByteIdentical()
    {
        using var files = new TempDirectory("porthole-scp");
        var source = files.Combine("firmware.bin");
        var destination = files.Combine("received.bin");
        await using (var stream = File.Create(source))
        {
            var chunk = new byte[1024 * 1024];
            for (var i = 0; i < 64; i++)
            {
                RandomNumberGenerator.Fill(chunk);
                await stream.WriteAsync(chunk);
            }
        }

        var port = await StartForwardAsync();
        var scp = await ProcessRunner.RunAsync(
            "scp",
            [.. stack.Sshd.SshArgs("-P", port.ToString(CultureInfo.InvariantCulture)), source, $"{stack.Sshd.User}@127.0.0.1:{destination}"],
            timeout: TimeSpan.FromMinutes(3));

        Assert.True(scp.ExitCode == 0, scp.ToString());
        Assert.Equal(await HashAsync(source), await HashAsync(destination));
    }

    [Fact]
    public async Task Forward_CarriesTwentyConcurrentSessions()
    {
        var port = await StartForwardAsync();

        var sessions = Enumerable.Range(0, 20).Select(i => ProcessRunner.RunAsync(
            "ssh",
            [.. stack.Sshd.SshArgs("-p", port.ToString(CultureInfo.InvariantCulture)), $"{stack.Sshd.User}@127.0.0.1", "echo", $"session-{i}"],
            timeout: TimeSpan.FromMinutes(2)));
        var results = await Task.WhenAll(sessions);

        for (var i = 0; i < results.Length; i++)
        {
            Assert.True(results[i].ExitCode == 0, $"session {i}: {results[i]}");
            Assert.Equal($"session-{i}", results[i].StandardOutput.Trim());
        }
    }

    [Fact]
    public async Task Forward_WithFixedLocalPort_ListensOnThatPort()
    {
        var wanted = FreePort.Get();
        var forward = stack.StartCli("forward", $"{_device}/ssh", "--local-port", wanted.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1");
        var line = await forward.WaitForLineAsync(l => l.StartsWith("Forwarding ", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        Assert.Contains($"127.0.0.1:{wanted}", line, StringComparison.Ordinal);

        var result = await ProcessRunner.RunAsync(
            "ssh", [.. stack.Sshd.SshArgs("-p", wanted.ToString(CultureInfo.InvariantCulture)), $"{stack.Sshd.User}@127.0.0.1", "echo", "fixed"], timeout: TimeSpan.FromSeconds(60));
        Assert.Equal("fixed", result.StandardOutput.Trim());
    }

    private async Task<int> StartForwardAsync()
    {
        var forward = stack.StartCli("forward", $"{_device}/ssh", "--local-port", "0");
        var line = await forward.WaitForLineAsync(l => l.StartsWith("Forwarding ", StringComparison.Ordinal), TimeSpan.FromSeconds(30));

        // "Forwarding 127.0.0.1:PORT -> device/endpoint"
        var address = line.Split(' ')[1];
        return int.Parse(address[(address.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
    }

    private static async Task<string> HashAsync(string path)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexString(await SHA256.HashDataAsync(stream));
    }
}
