using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Porthole.Server.Vault;
using Porthole.Tunnel.Relay;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace Porthole.Server.Ssh;

/// <summary>
/// A browser terminal for an SSH endpoint: the server is the SSH client (SSH.NET) with the stored credential, so
/// neither password nor key reaches the browser. SSH.NET dials sockets itself, so a one-shot loopback listener
/// bridges it into the session's tunnel (DEPENDENCY-NOTES.md).
/// The client WebSocket carries terminal bytes as binary messages; text messages are JSON control messages,
/// <c>{"type":"resize","cols":C,"rows":R}</c>.
/// </summary>
public static class SshTerminalRelay
{
    private const int BufferSize = 32 * 1024;

    /// <param name="target">Credential and pinned host key.</param>
    /// <param name="client">The browser's WebSocket.</param>
    /// <param name="agent">The session's data WebSocket to the agent.</param>
    /// <param name="pinHostKeyAsync">Called once the server proved a host key and none was pinned yet (trust on first use).</param>
    /// <param name="lifetime">Idle and lifetime limits, and termination by an operator.</param>
    /// <param name="cancellationToken">Ends the session.</param>
    public static async Task<SshTerminalResult> RunAsync(
        SshTerminalTarget target, WebSocket client, WebSocket agent, Func<string, Task> pinHostKeyAsync, SessionLifetime lifetime, CancellationToken cancellationToken)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(1);
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var bridge = BridgeAsync(listener, agent, abort.Token);

        string? seen = null;
        var mismatch = false;
        var connection = new Renci.SshNet.ConnectionInfo("127.0.0.1", port, target.Username, AuthenticationFor(target)) { Timeout = TimeSpan.FromSeconds(20) };
        using var ssh = new SshClient(connection);
        ssh.HostKeyReceived += (_, e) =>
        {
            seen = "SHA256:" + e.FingerPrintSHA256;
            mismatch = target.PinnedHostKey is not null && target.PinnedHostKey != seen;
            e.CanTrust = !mismatch;
        };

        try
        {
            await ssh.ConnectAsync(abort.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SshException or SocketException or OperationCanceledException or ProxyException or InvalidOperationException)
        {
            var failure = mismatch
                ? $"the SSH host key changed (pinned {target.PinnedHostKey}, now {seen}); refused until an operator accepts it (porthole endpoints forget-host-key)"
                : ex is SshAuthenticationException
                    ? $"the SSH server rejected the stored credential for user '{target.Username}'"
                    : "SSH connection failed: " + ex.Message;
            await FailAsync(client, failure).ConfigureAwait(false);
            await abort.CancelAsync().ConfigureAwait(false);
            await bridge.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return new SshTerminalResult(failure, seen, mismatch, 0, 0);
        }

        if (target.PinnedHostKey is null && seen is not null)
        {
            await pinHostKeyAsync(seen).ConfigureAwait(false);
        }

        using var shell = ssh.CreateShellStream("xterm-256color", 80, 24, 0, 0, BufferSize);
        var toClient = ShellToClientAsync(shell, client, lifetime, abort.Token);
        var toServer = ClientToShellAsync(client, shell, lifetime, abort.Token);
        var first = await Task.WhenAny(toClient, toServer, lifetime.Expired).ConfigureAwait(false);
        if (first != toServer)
        {
            // The shell ended (exit, logout) or the session's time is up: say so with a close frame and let the client
            // answer it. Cancelling the pending receive instead would abort the WebSocket without one.
            var reason = first == lifetime.Expired ? lifetime.Expired.Result : "ssh session ended";
            await WebSocketClosing.CloseOutputAsync(client, first == lifetime.Expired ? WebSocketCloseStatus.PolicyViolation : WebSocketCloseStatus.NormalClosure, reason).ConfigureAwait(false);
            await Task.WhenAny(toServer, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None)).ConfigureAwait(false);
        }

        // End the shell (which unblocks its reader) and the tunnel.
        ssh.Disconnect();
        await abort.CancelAsync().ConfigureAwait(false);
        var down = await toClient.ConfigureAwait(false);
        var up = await toServer.ConfigureAwait(false);
        await WebSocketClosing.CloseAsync(client, WebSocketCloseStatus.NormalClosure, "ssh session ended").ConfigureAwait(false);
        await bridge.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return new SshTerminalResult(null, seen, false, up, down);
    }

    private static AuthenticationMethod[] AuthenticationFor(SshTerminalTarget target)
    {
        if (target.Kind == CredentialKinds.SshKey)
        {
            var key = new PrivateKeyFile(new MemoryStream(Encoding.UTF8.GetBytes(target.Secret.PrivateKey ?? "")), target.Secret.Passphrase);
            return [new PrivateKeyAuthenticationMethod(target.Username, key)];
        }

        return [new PasswordAuthenticationMethod(target.Username, target.Secret.Password ?? "")];
    }

    /// <summary>Accepts SSH.NET's one connection and carries it through the agent's data WebSocket.</summary>
    private static async Task BridgeAsync(TcpListener listener, WebSocket agent, CancellationToken cancellationToken)
    {
        using var socket = await listener.AcceptSocketAsync(cancellationToken).ConfigureAwait(false);
        listener.Stop();
        socket.NoDelay = true;
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await StreamTunnel.RunAsync(agent, stream, stream, () => socket.Shutdown(SocketShutdown.Send), "ssh client", cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private static async Task<long> ShellToClientAsync(ShellStream shell, WebSocket client, SessionLifetime lifetime, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        long total = 0;
        try
        {
            while (true)
            {
                var read = await shell.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return total;
                }

                await client.SendAsync(buffer.AsMemory(0, read), WebSocketMessageType.Binary, true, cancellationToken).ConfigureAwait(false);
                total += read;
                lifetime.Touch();
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException or SshException or IOException)
        {
            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task<long> ClientToShellAsync(WebSocket client, ShellStream shell, SessionLifetime lifetime, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        long total = 0;
        try
        {
            while (true)
            {
                var received = await client.ReceiveAsync(buffer.AsMemory(0, BufferSize), cancellationToken).ConfigureAwait(false);
                switch (received.MessageType)
                {
                    case WebSocketMessageType.Close:
                        return total;
                    case WebSocketMessageType.Binary:
                        shell.Write(buffer, 0, received.Count);
                        shell.Flush();
                        total += received.Count;
                        lifetime.Touch();
                        break;
                    case WebSocketMessageType.Text when received.EndOfMessage:
                        ApplyControl(shell, buffer.AsSpan(0, received.Count));
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException or SshException or IOException)
        {
            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Applies a resize; anything else (or a malformed message) is ignored rather than ending the session.</summary>
    private static void ApplyControl(ShellStream shell, ReadOnlySpan<byte> json)
    {
        try
        {
            using var document = JsonDocument.Parse(json.ToArray());
            var root = document.RootElement;
            if (root.TryGetProperty("type", out var type) && type.GetString() == "resize"
                && root.TryGetProperty("cols", out var cols) && cols.TryGetUInt32(out var c) && c is > 0 and <= 1000
                && root.TryGetProperty("rows", out var rows) && rows.TryGetUInt32(out var r) && r is > 0 and <= 1000)
            {
                shell.ChangeWindowSize(c, r, 0, 0);
            }
        }
        catch (JsonException)
        {
        }
    }

    private static async Task FailAsync(WebSocket client, string failure)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await client.SendAsync(Encoding.UTF8.GetBytes($"\r\nporthole: {failure}\r\n"), WebSocketMessageType.Binary, true, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }

        await WebSocketClosing.CloseAsync(client, WebSocketCloseStatus.PolicyViolation, failure).ConfigureAwait(false);
    }
}
