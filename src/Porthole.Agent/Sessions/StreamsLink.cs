using System.Net;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Porthole.Agent.Control;
using Porthole.Protocol.Control;
using Porthole.Tunnel.Streams;
using Porthole.Tunnel.Transport;

namespace Porthole.Agent.Sessions;

/// <summary>
/// The agent's streams connection (docs/design/agent-streams.md): opened once the server's welcome offers it, kept
/// up with backoff like the control channel, and independent of it, so its sessions survive a control reconnect. A
/// server that stops offering it (404) is left alone until a welcome offers it again.
/// </summary>
public sealed class StreamsLink(Uri server, string credential, DataWebSocketConnector connector, ILogger logger)
{
    private readonly Backoff _backoff = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
    private StreamMux? _current;
    private int _running;

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

    /// <summary>Starts keeping the connection up, unless that is already under way.</summary>
    public void EnsureRunning(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _running, 1) == 0)
        {
            _ = Task.Run(() => RunAsync(cancellationToken), CancellationToken.None);
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var uri = DataWebSocketConnector.ToWebSocketUri(server, "/api/v1/agent/streams");
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                string reason;
                try
                {
                    await using var connection = await connector.UpgradeAsync(uri, credential, ControlProtocol.StreamsSubProtocol, null, cancellationToken).ConfigureAwait(false);
                    await using var mux = new StreamMux(connection, connector.KeepAlive.Interval, "server");
                    _current = mux;
                    _backoff.Reset();
                    AgentLog.StreamsConnected(logger);
                    reason = await mux.RunAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
                catch (WebSocketRejectedException ex) when (ex.StatusCode == HttpStatusCode.NotFound)
                {
                    AgentLog.StreamsNotOffered(logger);
                    return;
                }
                catch (Exception ex) when (ex is WebSocketException or HttpRequestException or IOException or OperationCanceledException)
                {
                    reason = ex.InnerException is { } inner ? $"{ex.Message} ({inner.Message})" : ex.Message;
                }
                finally
                {
                    _current = null;
                }

                var delay = _backoff.Next();
                AgentLog.StreamsLost(logger, reason, delay);
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The agent is stopping.
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }
}
