using System.Net;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Porthole.Agent.Control;
using Porthole.Protocol.Control;
using Porthole.Tunnel.Streams;
using Porthole.Tunnel.Transport;

namespace Porthole.Agent.Sessions;

/// <summary>
/// The agent's streams connection (docs/design/agent-streams.md), opened when a session needs it: the first session
/// after a welcome that offers streams travels on a connection of its own and opens the streams connection for the
/// sessions after it. The server closes it once it has carried no session for a while (<c>Porthole:AgentStreamsIdleTimeout</c>),
/// so an idle agent holds its control channel only. It is independent of the control channel: its sessions survive
/// a control reconnect. A failed attempt is not repeated before a backoff delay; a server that answers 404 is not
/// asked again until a welcome offers streams again.
/// </summary>
public sealed class StreamsLink(Uri server, string credential, DataWebSocketConnector connector, ILogger logger)
{
    /// <summary>
    /// What the agent's stream windows may take beyond the protocol's 512 KiB: 64 MiB, sixteen streams at 4 MiB. It is
    /// what the agent may hold for sessions whose devices stop reading, and a gateway has less memory to spare than a
    /// server (<c>Porthole:AgentStreamsWindowBudget</c>, 256 MiB by default). Streams opened beyond it keep 512 KiB.
    /// </summary>
    private static readonly StreamWindowBudget WindowBudget = new(64L * 1024 * 1024);

    private readonly Backoff _backoff = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
    private StreamMux? _current;
    private int _running;
    private bool _offered;
    private long _notBefore;
    private CancellationToken _stopping;

    /// <summary>The connection sessions can be carried on now, or <c>null</c> while there is none.</summary>
    public StreamMux? Current => _current is { IsEnded: false } mux ? mux : null;

    /// <summary>
    /// The connection, waiting up to <paramref name="wait"/> for it: the server may name a stream in an <c>open</c> the
    /// moment it has accepted the connection, a moment before this side has taken it into use.
    /// </summary>
    public async Task<StreamMux?> GetAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        var deadline = Environment.TickCount64 + (long)wait.TotalMilliseconds;
        while (Current is null && Environment.TickCount64 < deadline)
        {
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }

        return Current;
    }

    /// <summary>What the server's welcome said; <paramref name="stopping"/> ends a connection this link opens later.</summary>
    public void Offer(bool offered, CancellationToken stopping)
    {
        (_stopping, _notBefore) = (stopping, 0);
        Volatile.Write(ref _offered, offered);
    }

    /// <summary>
    /// A session is being opened: opens the connection, unless it is up or being opened, the server does not offer
    /// it, or the last attempt failed less than a backoff delay ago.
    /// </summary>
    public void Want()
    {
        if (!Volatile.Read(ref _offered) || Environment.TickCount64 < Volatile.Read(ref _notBefore) || Interlocked.Exchange(ref _running, 1) != 0)
        {
            return;
        }

        var stopping = _stopping;
        _ = Task.Run(() => RunAsync(stopping), CancellationToken.None);
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            var (carried, reason) = await CarryAsync(cancellationToken).ConfigureAwait(false);
            if (reason is null)
            {
                return;
            }

            if (carried)
            {
                // It was up: the next session opens it again at once (the server closes an idle one; a lost one ended
                // its sessions).
                AgentLog.StreamsClosed(logger, reason);
            }
            else
            {
                var delay = _backoff.Next();
                Volatile.Write(ref _notBefore, Environment.TickCount64 + (long)delay.TotalMilliseconds);
                AgentLog.StreamsFailed(logger, reason, delay);
            }
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    /// <summary>Opens the connection and reads it until it ends; returns whether it was up, and why it ended (<c>null</c>: nothing to report).</summary>
    private async Task<(bool Carried, string? Reason)> CarryAsync(CancellationToken cancellationToken)
    {
        var uri = DataWebSocketConnector.ToWebSocketUri(server, "/api/v1/agent/streams");
        var carried = false;
        try
        {
            await using var connection = await connector.UpgradeAsync(uri, credential, ControlProtocol.StreamsSubProtocol, null, cancellationToken).ConfigureAwait(false);
            await using var mux = new StreamMux(connection, connector.KeepAlive.Interval, "server", WindowBudget);
            _current = mux;
            carried = true;
            _backoff.Reset();
            AgentLog.StreamsConnected(logger);
            return (true, await mux.RunAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return (carried, null);
        }
        catch (WebSocketRejectedException ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            Volatile.Write(ref _offered, false);
            AgentLog.StreamsNotOffered(logger);
            return (false, null);
        }
        catch (Exception ex) when (ex is WebSocketException or HttpRequestException or IOException or OperationCanceledException)
        {
            return (carried, ex.InnerException is { } inner ? $"{ex.Message} ({inner.Message})" : ex.Message);
        }
        finally
        {
            _current = null;
        }
    }
}
