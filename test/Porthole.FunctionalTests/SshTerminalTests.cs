using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Porthole.FunctionalTests.Fixtures;
using Porthole.Protocol.Api;

namespace Porthole.FunctionalTests;

/// <summary>
/// The browser terminal for SSH endpoints: the server runs the SSH client with the stored key against a real sshd
/// through the agent, pins the host key on first use and refuses a changed one.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class SshTerminalTests(PortholeStack stack)
{
    private async Task<string> PrepareAsync(int port, bool storeKey = true)
    {
        var device = "term-gw-" + Guid.NewGuid().ToString("N")[..8];
        await stack.StartGatewayAsync(device);
        await stack.CliOkAsync("endpoints", "add", device, "--name", "shell", "--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--protocol", "ssh");
        if (storeKey)
        {
            await stack.CliOkAsync("endpoints", "set-credential", $"{device}/shell", "--kind", "ssh-key", "--username", stack.Sshd.User, "--private-key", stack.Sshd.ClientKeyPath);
        }

        return device;
    }

    [Fact]
    public async Task Terminal_RunsACommandWithTheStoredKey_AndPinsTheHostKey()
    {
        var device = await PrepareAsync(stack.Sshd.Port);

        using (var terminal = await SessionClient.OpenAsync(stack, device, "shell", "terminal"))
        {
            await SendAsync(terminal, "{\"type\":\"resize\",\"cols\":100,\"rows\":30}", WebSocketMessageType.Text);
            await SendAsync(terminal, "echo hello-$((6*7)); stty size\n", WebSocketMessageType.Binary);
            var output = await ReadUntilAsync(terminal, "30 100");
            Assert.Contains("hello-42", output, StringComparison.Ordinal);
        }

        var endpoint = JsonSerializer.Deserialize(await stack.CliOkAsync("endpoints", "show", $"{device}/shell", "--json"), ApiJsonContext.Default.EndpointDto)!;
        Assert.StartsWith("SHA256:", endpoint.SshHostKey, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Terminal_WhenTheHostKeyChanges_IsRefusedAndAuditedUntilForgotten()
    {
        var device = await PrepareAsync(stack.Sshd.Port);
        using (var first = await SessionClient.OpenAsync(stack, device, "shell", "terminal"))
        {
            await SendAsync(first, "exit\n", WebSocketMessageType.Binary);
            await ReadUntilAsync(first, null);
        }

        // Same address, another server (another host key): what a swapped or spoofed device looks like.
        await using var impostor = await SshdFixture.StartAsync();
        File.Copy(stack.Sshd.ClientKeyPath + ".pub", impostor.ClientKeyPath + ".pub", overwrite: true);
        await File.WriteAllTextAsync(Path.Combine(Path.GetDirectoryName(impostor.ClientKeyPath)!, "authorized_keys"), await File.ReadAllTextAsync(stack.Sshd.ClientKeyPath + ".pub"));
        await stack.CliOkAsync("endpoints", "update", $"{device}/shell", "--port", impostor.Port.ToString(CultureInfo.InvariantCulture));

        using (var refused = await SessionClient.OpenAsync(stack, device, "shell", "terminal"))
        {
            var output = await ReadUntilAsync(refused, null);
            Assert.Contains("the SSH host key changed", output, StringComparison.Ordinal);
            Assert.Equal(WebSocketCloseStatus.PolicyViolation, refused.CloseStatus);
        }

        var audit = await stack.CliOkAsync("audit", "list", "--device", device, "--action", "session.ssh-host-key-mismatch", "--json");
        Assert.Contains("session.ssh-host-key-mismatch", audit, StringComparison.Ordinal);

        await stack.CliOkAsync("endpoints", "forget-host-key", $"{device}/shell");
        using var accepted = await SessionClient.OpenAsync(stack, device, "shell", "terminal");
        await SendAsync(accepted, "echo accepted-$((1+1))\n", WebSocketMessageType.Binary);
        Assert.Contains("accepted-2", await ReadUntilAsync(accepted, "accepted-2"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Terminal_WithAStoredPassword_LogsIn_AndAWrongOneIsReportedReadably()
    {
        await using var user = await SystemUser.CreateAsync();
        await using var sshd = await SshdFixture.StartAsync(allowPasswords: true);
        var device = await PrepareAsync(sshd.Port, storeKey: false);
        var set = await stack.CliAsync(["endpoints", "set-credential", $"{device}/shell", "--kind", "ssh-password", "--username", user.Name, "--password-stdin"], stdin: user.Password + "\n");
        Assert.True(set.ExitCode == 0, set.ToString());

        using (var terminal = await SessionClient.OpenAsync(stack, device, "shell", "terminal"))
        {
            await SendAsync(terminal, "echo pw-$((20+22)) $(id -un)\n", WebSocketMessageType.Binary);
            Assert.Contains($"pw-42 {user.Name}", await ReadUntilAsync(terminal, $"pw-42 {user.Name}"), StringComparison.Ordinal);
        }

        await stack.CliAsync(["endpoints", "set-credential", $"{device}/shell", "--kind", "ssh-password", "--username", user.Name, "--password-stdin"], stdin: "not-the-password\n");
        using var refused = await SessionClient.OpenAsync(stack, device, "shell", "terminal");
        Assert.Contains($"the SSH server rejected the stored credential for user '{user.Name}'", await ReadUntilAsync(refused, null), StringComparison.Ordinal);

        // The stored password appears nowhere: not in the audit log, API answers or the server's output.
        var everything = await stack.CliOkAsync("audit", "export", "--format", "jsonl")
            + await stack.CliOkAsync("endpoints", "list", device, "--json")
            + stack.Server.CapturedOutput;
        Assert.DoesNotContain(user.Password, everything, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-password", everything, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Terminal_WithoutAStoredCredential_IsRefusedBeforeReachingTheAgent()
    {
        var device = await PrepareAsync(stack.Sshd.Port, storeKey: false);

        using var response = await SessionClient.RequestAsync(stack, device, "shell", "terminal");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("credential-required", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    internal static Task SendAsync(WebSocket webSocket, string text, WebSocketMessageType type) =>
        webSocket.SendAsync(Encoding.UTF8.GetBytes(text), type, true, CancellationToken.None);

    /// <summary>Reads terminal output until it contains <paramref name="expected"/> (or until close when null).</summary>
    internal static async Task<string> ReadUntilAsync(WebSocket webSocket, string? expected)
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var output = new StringBuilder();
        var buffer = new byte[16 * 1024];
        while (expected is null || !output.ToString().Contains(expected, StringComparison.Ordinal))
        {
            var received = await webSocket.ReceiveAsync(buffer, cancel.Token);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                break;
            }

            output.Append(Encoding.UTF8.GetString(buffer, 0, received.Count));
        }

        return output.ToString();
    }
}
