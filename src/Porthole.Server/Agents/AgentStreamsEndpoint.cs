using System.Net.WebSockets;
using Microsoft.Extensions.Options;
using Porthole.Protocol.Api;
using Porthole.Protocol.Control;
using Porthole.Server.Hosting;
using Porthole.Server.Http;
using Porthole.Server.Identity;
using Porthole.Tunnel.Streams;
using Porthole.Server.Relay;

namespace Porthole.Server.Agents;

/// <summary>
/// <c>GET /api/v1/agent/streams</c> (WebSocket, <c>porthole.streams</c>): the agent's one connection for the sessions
/// it carries, each a stream of its own with its own credit (docs/design/agent-streams.md). Offered only when
/// <see cref="PortholeServerOptions.AgentStreams"/> is on; sessions of agents without one use a connection each.
/// </summary>
public static class AgentStreamsEndpoint
{
    public static void MapAgentStreams(this IEndpointRouteBuilder agent)
    {
        agent.MapGet("/streams", RunAsync).RequireAuthorization(Permissions.Agent);
    }

    private static async Task RunAsync(HttpContext context, AgentStreams streams, DataLegAcceptor acceptor, IOptions<PortholeServerOptions> options, ShutdownDrain drain, ILoggerFactory loggers)
    {
        if (!options.Value.AgentStreams)
        {
            await ApiProblem.WriteAsync(context, StatusCodes.Status404NotFound, ProblemCodes.StreamsDisabled, "Not found", "this server does not take streams connections (Porthole:AgentStreams is off)");
            return;
        }

        if (AgentControlEndpoint.RefuseUpgrade(context, drain))
        {
            return;
        }

        var logger = loggers.CreateLogger(typeof(AgentStreamsEndpoint));
        var deviceId = context.User.GetDeviceId()!;
        var deviceName = context.User.GetActor()["device:".Length..];
        // On the connection's pipes when it is HTTP/1.1, so that a session relayed on them crosses in one pass (StreamRelay).
        await using var leg = await acceptor.AcceptAsync(context, "agent", ControlProtocol.StreamsSubProtocol);
        await using var mux = leg.Frames is { } frames
            ? new StreamMux(frames, "agent", streams.WindowBudget)
            : new StreamMux(await leg.GetWebSocketAsync(), "agent", streams.WindowBudget);
        streams.Attach(deviceId, mux);
        AgentLog.StreamsConnected(logger, deviceName);
        using var stopWatching = new CancellationTokenSource();
        var watching = CloseWhenIdleAsync(mux, options.Value.AgentStreamsIdleTimeout, stopWatching.Token);
        string reason;
        try
        {
            reason = await mux.RunAsync(context.RequestAborted);
        }
        finally
        {
            streams.Detach(deviceId, mux);
            await stopWatching.CancelAsync();
            await watching;
        }

        AgentLog.StreamsDisconnected(logger, deviceName, reason);
    }

    /// <summary>
    /// Closes the connection (1000, "idle") once it has carried no session for <paramref name="idleFor"/>: the agent
    /// opens it again with its next session. Retired first, so that no session is put on it while it closes.
    /// </summary>
    private static async Task CloseWhenIdleAsync(StreamMux mux, TimeSpan idleFor, CancellationToken cancellationToken)
    {
        // Checked a few times per timeout (at most ten times a second): the connection closes between one and 1¼
        // timeouts after its last session.
        using var timer = new PeriodicTimer(TimeSpan.FromTicks(Math.Max(idleFor.Ticks / 4, TimeSpan.TicksPerMillisecond * 100)));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                if (mux.TryRetire(idleFor))
                {
                    await mux.CloseAsync(WebSocketCloseStatus.NormalClosure, "idle");
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The connection ended first.
        }
        catch (Exception ex) when (ex is IOException or WebSocketException or ObjectDisposedException)
        {
            // It broke as it was being closed: RunAsync reports that.
        }
    }
}
