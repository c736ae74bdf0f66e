using System.Net.Sockets;
using Porthole.Protocol.Control;

namespace Porthole.Agent.Sessions;

/// <summary>Dials a session's target on the gateway's network and classifies failures for the user.</summary>
public static class TargetDialer
{
    public static async Task<(Socket? Socket, OpenFailureReason? Failure, string? Message)> DialAsync(string host, int port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(host, port, deadline.Token).ConfigureAwait(false);
            return (socket, null, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            return (null, OpenFailureReason.Timeout, $"no answer within {timeout.TotalSeconds:0.#} s");
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            var reason = ex.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => OpenFailureReason.Refused,
                SocketError.TimedOut => OpenFailureReason.Timeout,
                _ => OpenFailureReason.Unreachable,
            };
            return (null, reason, ex.Message);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
