using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Net.WebSockets;
using Porthole.Cli.Api;
using Porthole.Cli.Commands;
using Porthole.Tunnel.Relay;

namespace Porthole.Cli.Sessions;

/// <summary>
/// <c>porthole forward</c>: every connection accepted on the local listener gets its own session, concurrently.
/// A session that fails is reported on stderr and closed; the listener keeps running.
/// </summary>
public sealed class LocalForwarder(SessionOpener opener, EndpointRef target)
{
    // Sessions still running when the forward stops get this long to close their WebSockets politely.
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<long, Task> _sessions = new();
    private long _nextId;

    /// <summary>Accepts connections on <paramref name="listener"/> until <paramref name="cancellationToken"/> fires.</summary>
    public async Task RunAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                Socket socket;
                try
                {
                    socket = await listener.AcceptSocketAsync(cancellationToken);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    break;
                }
                catch (SocketException ex)
                {
                    // E.g. out of file descriptors: report, back off a little, keep serving.
                    Report($"cannot accept a connection: {ex.Message}");
                    await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    continue;
                }

                socket.NoDelay = true;
                var id = Interlocked.Increment(ref _nextId);
                var session = Task.Run(() => CarryAsync(socket, cancellationToken), CancellationToken.None);
                _sessions[id] = session;
                _ = session.ContinueWith(_ => _sessions.TryRemove(id, out Task? _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
        finally
        {
            listener.Stop();
        }

        await Task.WhenAny(Task.WhenAll(_sessions.Values), Task.Delay(DrainTimeout, CancellationToken.None));
    }

    private async Task CarryAsync(Socket socket, CancellationToken cancellationToken)
    {
        using (socket)
        {
            try
            {
                using var webSocket = await opener.OpenAsync(target, cancellationToken);
                await using var stream = new NetworkStream(socket, ownsSocket: false);
                var result = await StreamTunnel.RunAsync(webSocket, stream, stream, () => ShutdownSend(socket), "local", cancellationToken: cancellationToken, afterFirstExchange: opener.RefillSpare);

                // Only the remote side's failures are news; a local client that resets its connection knows already.
                if (result.RemoteToLocal.End is PumpEnd.PeerClosed or PumpEnd.Failed && webSocket.CloseStatus != WebSocketCloseStatus.NormalClosure)
                {
                    Report(result.RemoteToLocal.Reason ?? "the session ended abnormally");
                }
            }
            catch (CliException ex)
            {
                Report(ex.Message);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The forward is stopping.
            }
        }
    }

    private void Report(string message) => Console.Error.WriteLine($"porthole: {target}: {message}");

    private static void ShutdownSend(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // The local client is already gone; the pump notices on its next read.
        }
    }
}
