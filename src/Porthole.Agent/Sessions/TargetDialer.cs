using System.Net;
using System.Net.Sockets;
using Porthole.Protocol.Control;

namespace Porthole.Agent.Sessions;

/// <summary>Dials a session's target on the gateway's network and classifies failures for the user.</summary>
public static class TargetDialer
{
    /// <summary>
    /// Resolves <paramref name="host"/> once, checks the addresses against <paramref name="policy"/> and dials the first
    /// allowed one — the address checked is the address dialled, so a DNS answer that changes cannot slip past.
    /// </summary>
    public static async Task<(Socket? Socket, OpenFailureReason? Failure, string? Message)> DialAsync(
        string host, int port, TargetPolicy policy, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, deadline.Token).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            return (null, OpenFailureReason.Unreachable, $"cannot resolve '{host}': {ex.Message}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, OpenFailureReason.Timeout, $"resolving '{host}' took longer than {timeout.TotalSeconds:0.#} s");
        }

        var verdicts = addresses.Select(a => (Address: a, Refusal: policy.Check(a, port))).ToList();
        if (verdicts.FirstOrDefault(v => v.Refusal is null).Address is not { } allowed)
        {
            return (null, OpenFailureReason.Denied, verdicts.FirstOrDefault().Refusal ?? $"'{host}' resolved to no address");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(allowed, port), deadline.Token).ConfigureAwait(false);
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
