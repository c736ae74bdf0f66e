using Microsoft.EntityFrameworkCore;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Porthole.Protocol.Api;
using Porthole.Protocol.Control;
using Porthole.Server.Agents;
using Porthole.Server.Audit;
using Porthole.Server.Data;
using Porthole.Server.Devices;
using Porthole.Server.Vault;
using Porthole.Server.Endpoints;
using Porthole.Server.Hosting;
using Porthole.Server.Http;
using Porthole.Server.Identity;
using Porthole.Tunnel.Relay;
using Porthole.Tunnel.Transport;

namespace Porthole.Server.Relay;

/// <summary>
/// Opening and carrying sessions. <c>POST /api/v1/sessions</c> checks rights and state, asks the agent to dial
/// the target and answers only once the agent has (so every failure is a problem-details response the CLI can
/// print); the client then joins at <c>/api/v1/sessions/{id}/stream</c>, the agent at <c>/api/v1/agent/sessions/{id}</c>.
/// <c>GET /api/v1/sessions/connect</c> does both in one WebSocket request: it opens the session the same way and
/// answers 101 once the agent is there, or the same problem details (docs/design/core-tunnel.md, "A session").
/// </summary>
public static class SessionsApi
{
    public static void MapSessionsApi(this IEndpointRouteBuilder api)
    {
        var sessions = api.MapGroup("/sessions").WithTags("Sessions");
        sessions.MapPost("/", OpenAsync).RequireAuthorization(Permissions.RemoteAccessConnect);
        sessions.MapMethods("/connect", [HttpMethods.Get, HttpMethods.Connect], ConnectAsync).RequireAuthorization(Permissions.RemoteAccessConnect);
        sessions.MapGet("/", ListAsync).RequireAuthorization(Permissions.Authenticated);
        sessions.MapDelete("/{sessionId}", TerminateAsync).RequireAuthorization(Permissions.Authenticated);
        // Browsers open WebSockets over HTTP/2 as an extended CONNECT (RFC 8441), the CLI over HTTP/1.1 as a GET.
        sessions.MapMethods("/{sessionId}/stream", [HttpMethods.Get, HttpMethods.Connect], StreamAsync).RequireAuthorization(Permissions.RemoteAccessConnect);
    }

    public static void MapAgentSessions(this IEndpointRouteBuilder agent)
    {
        agent.MapGet("/sessions/{sessionId}", AgentLegAsync).RequireAuthorization(Permissions.Agent);
    }

    private static async Task<Results<Created<CreateSessionResponse>, ProblemHttpResult>> OpenAsync(
        CreateSessionRequest request, HttpContext context, SessionOpening opening, IOptions<PortholeServerOptions> options, CancellationToken cancellationToken)
    {
        var (session, problem) = await opening.OpenAsync(request, context, cancellationToken);
        if (session is null)
        {
            return problem!;
        }

        var path = $"/api/v1/sessions/{session.Id}/stream";
        return TypedResults.Created(path, new CreateSessionResponse(session.Id, path, session.ClientKey, session.CreatedAt + options.Value.ClientAttachTimeout));
    }

    /// <summary>
    /// Opens a session and carries it in one WebSocket request (the CLI's way; one round trip and one authentication
    /// fewer than <c>POST</c> then <c>stream</c>). The session is claimed by this request the moment it exists.
    /// </summary>
    private static async Task ConnectAsync(
        [AsParameters] ConnectQuery query,
        HttpContext context,
        ISessionBroker broker,
        DataLegAcceptor acceptor,
        IServiceScopeFactory scopes,
        TimeProvider time,
        IOptions<PortholeServerOptions> options,
        ILoggerFactory loggers)
    {
        if (RefuseStreamRequest(context) is { } refusal)
        {
            await refusal.ExecuteAsync(context);
            return;
        }

        // Opening needs the database; this request lasts as long as the session, so it takes a scope of its own for that.
        PendingSession? session;
        ProblemHttpResult? problem;
        await using (var scope = scopes.CreateAsyncScope())
        {
            (session, problem) = await scope.ServiceProvider.GetRequiredService<SessionOpening>()
                .OpenAsync(new CreateSessionRequest(query.Device ?? "", query.Endpoint ?? "", query.Action), context, context.RequestAborted);
        }

        if (session is null)
        {
            await problem!.ExecuteAsync(context);
            return;
        }

        if (!session.TryClaimClient(session.ClientKey, context.User.GetUserId() ?? ""))
        {
            // Nobody else knows the key yet; only an expiry in between could take the session away.
            broker.Remove(session);
            await ApiProblem.WriteAsync(context, StatusCodes.Status404NotFound, ProblemCodes.SessionNotFound, "Not found", "the session expired before it could be joined");
            return;
        }

        await CarryAsync(context, session, broker, acceptor, scopes, time, options, loggers);
    }

    /// <summary>The query of <c>GET /api/v1/sessions/connect</c>: what <c>POST /api/v1/sessions</c> takes as its body.</summary>
    private readonly record struct ConnectQuery(
        [property: Microsoft.AspNetCore.Mvc.FromQuery(Name = "device")] string? Device,
        [property: Microsoft.AspNetCore.Mvc.FromQuery(Name = "endpoint")] string? Endpoint,
        [property: Microsoft.AspNetCore.Mvc.FromQuery(Name = "action")] string? Action);

    private static async Task StreamAsync(
        string sessionId, HttpContext context, ISessionBroker broker, DataLegAcceptor acceptor, IServiceScopeFactory scopes, TimeProvider time, IOptions<PortholeServerOptions> options, ILoggerFactory loggers)
    {
        if (RefuseStreamRequest(context) is { } refusal)
        {
            await refusal.ExecuteAsync(context);
            return;
        }

        var session = broker.Find(sessionId);
        var key = SessionKeyOf(context);
        if (session is null || !session.TryClaimClient(key, context.User.GetUserId() ?? ""))
        {
            await ApiProblem.WriteAsync(context, StatusCodes.Status404NotFound, ProblemCodes.SessionNotFound, "Not found", "the session does not exist, has expired or was already joined");
            return;
        }

        await CarryAsync(context, session, broker, acceptor, scopes, time, options, loggers);
    }

    /// <summary>Why a request may not carry a session stream (not a WebSocket; a cookie from a foreign page), if it may not.</summary>
    private static ProblemHttpResult? RefuseStreamRequest(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            return ApiProblem.Create(StatusCodes.Status400BadRequest, ProblemCodes.Validation, "WebSocket required", "this endpoint carries a session over a WebSocket");
        }

        // A browser attaches the session cookie to a WebSocket from any page (cross-site WebSocket hijacking): a
        // cookie-authenticated stream must come from the console's own origin. Bearer-token clients set no Origin.
        if (context.User.Identity?.AuthenticationType == WebSessions.SchemeName && !IsSameOrigin(context.Request))
        {
            return ApiProblem.Create(StatusCodes.Status403Forbidden, ProblemCodes.Forbidden, "Access denied",
                "a session stream opened with the session cookie must come from this server's own pages (Origin mismatch)");
        }

        return null;
    }

    /// <summary>Accepts the client's WebSocket for a session this request has claimed, relays it to its end and audits the close.</summary>
    private static async Task CarryAsync(
        HttpContext context, PendingSession session, ISessionBroker broker, DataLegAcceptor acceptor, IServiceScopeFactory scopes, TimeProvider time, IOptions<PortholeServerOptions> options, ILoggerFactory loggers)
    {
        // Rights were checked when the session was opened and again when the stream joined; this request lasts as long as
        // the session, so it lets go of the rights its authentication built, group tree included (issue 7).
        context.Features.Set<UserAccess>(null);

        var agent = session.AgentOutcome.Result.Leg!;
        var logger = loggers.CreateLogger(typeof(SessionsApi));
        SessionRelayResult outcome;
        var limits = session.Limits ?? options.Value.LimitsFor([]);
        using var lifetime = new SessionLifetime(limits.IdleTimeout, limits.MaxLifetime, time);
        try
        {
            // From the claim on, this request owns the agent's leg too: the session leaves the broker (and the agent's
            // request lets go of its connection) only once this request is done with both, whatever happens.
            await using var client = await acceptor.AcceptAsync(context, "client");
            session.Start(lifetime);
            outcome = await SessionRelay.RunAsync(session, client, agent, lifetime, scopes, context.RequestAborted);
        }
        finally
        {
            broker.Remove(session);
        }

        var result = outcome.Relay;
        var reason = outcome.HandshakeFailure ?? (string.IsNullOrEmpty(result.EndReason) ? null : result.EndReason) ?? result.ClientToAgent.Reason ?? result.AgentToClient.Reason ?? "closed";
        RelayLog.Ended(logger, session.Id, result.ClientToAgent.Bytes, result.AgentToClient.Bytes, reason, (outcome.FrameRelayed, agent.Stream is not null) switch
        {
            (true, true) => "stream frame",
            (true, false) => "frame",
            (false, true) => "stream",
            _ => "websocket",
        });
        var target = session.Target;
        var duration = time.GetUtcNow() - session.CreatedAt;
        // The session is over whatever the store says: a locked or full database delays its record, never drops it silently.
        await DurableAuditWriter.WriteAsync(scopes, logger,
            "user:" + target.Username, "session.close", $"device:{target.DeviceName}/{target.EndpointName}",
            outcome.HandshakeFailure is null ? AuditOutcomes.Success : AuditOutcomes.Failure,
            $"session {session.Id}, {target.Action}, {target.Protocol}: {result.ClientToAgent.Bytes} bytes up, {result.AgentToClient.Bytes} bytes down, {duration.TotalSeconds:0.###} s, {reason}",
            target.ClientAddress);
    }

    /// <summary>Sub-protocol entry that carries the client key from a browser, which cannot set headers on a WebSocket.</summary>
    internal const string KeySubProtocolPrefix = "porthole.key.";

    /// <summary>The client key: the <c>Porthole-Session-Key</c> header (CLI), else a <c>porthole.key.*</c> sub-protocol entry (browser).</summary>
    private static string SessionKeyOf(HttpContext context)
    {
        var header = context.Request.Headers[ControlProtocol.SessionKeyHeader].ToString();
        if (header.Length > 0)
        {
            return header;
        }

        var entry = context.WebSockets.WebSocketRequestedProtocols.FirstOrDefault(p => p.StartsWith(KeySubProtocolPrefix, StringComparison.Ordinal));
        return entry is null ? "" : entry[KeySubProtocolPrefix.Length..];
    }

    /// <summary>Whether <c>Origin</c> is exactly this request's own scheme://host[:port] (RFC 6455 section 10.2).</summary>
    private static bool IsSameOrigin(HttpRequest request)
    {
        var origin = request.Headers.Origin.ToString();
        return origin.Length > 0 && string.Equals(origin, $"{request.Scheme}://{request.Host.Value}", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Your own sessions, and those on devices where you hold <c>sessions:manage</c>; web sessions included.</summary>
    private static async Task<Ok<List<ActiveSessionDto>>> ListAsync(HttpContext context, OpenSessions sessions, CancellationToken cancellationToken) =>
        TypedResults.Ok((await sessions.VisibleAsync(context, cancellationToken)).Select(s => s.ToDto()).ToList());

    /// <summary>Ends a session: both sides get a close frame saying who ended it. Unknown and foreign sessions are 404 (and audited).</summary>
    private static async Task<Results<NoContent, ProblemHttpResult>> TerminateAsync(
        string sessionId, HttpContext context, OpenSessions sessions, AuditLog audit, CancellationToken cancellationToken)
    {
        var session = (await sessions.VisibleAsync(context, cancellationToken)).FirstOrDefault(s => s.Id == sessionId);
        if (session is null)
        {
            await audit.WriteAsync(context.User.GetActor(), "session.terminate", "session:" + sessionId, AuditOutcomes.Failure, "no such session visible to the caller", context.ClientAddress(), cancellationToken);
            return ApiProblem.NotFound(ProblemCodes.SessionNotFound, $"no active session '{sessionId}' that you may end");
        }

        await sessions.EndAsync(session, $"terminated by {context.User.GetUsername()}");
        await audit.WriteAsync(context.User.GetActor(), "session.terminate", $"device:{session.DeviceName}/{session.EndpointName}",
            detail: $"session {session.Id} of {session.Username}", clientAddress: context.ClientAddress(), cancellationToken: cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task AgentLegAsync(
        string sessionId, HttpContext context, ISessionBroker broker, DataLegAcceptor acceptor, TimeProvider time, IOptions<PortholeServerOptions> options, ILoggerFactory loggers)
    {
        var session = broker.Find(sessionId);
        if (!context.WebSockets.IsWebSocketRequest || session is null || session.Target.DeviceId != context.User.GetDeviceId())
        {
            await ApiProblem.WriteAsync(context, StatusCodes.Status404NotFound, ProblemCodes.SessionNotFound, "Not found", "no such pending session for this device");
            return;
        }

        await using var leg = await acceptor.AcceptAsync(context, "agent");
        if (!session.TryAttachAgent(context.Request.Headers[ControlProtocol.SessionKeyHeader].ToString(), leg))
        {
            await (await leg.GetWebSocketAsync()).CloseAsync(WebSocketCloseStatus.PolicyViolation, "bad or reused session key", context.RequestAborted);
            return;
        }

        // The relay runs in the client's request; this request only has to keep the agent's socket alive.
        await AgentLegHolder.HoldAsync(session, leg, broker, options.Value.ClientAttachTimeout, time, loggers.CreateLogger(typeof(SessionsApi)), context.RequestAborted);
    }
}
