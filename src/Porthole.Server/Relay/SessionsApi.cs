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
/// </summary>
public static class SessionsApi
{
    public static void MapSessionsApi(this IEndpointRouteBuilder api)
    {
        var sessions = api.MapGroup("/sessions").WithTags("Sessions");
        sessions.MapPost("/", OpenAsync).RequireAuthorization(Permissions.RemoteAccessConnect);
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
        CreateSessionRequest request,
        HttpContext context,
        PortholeDbContext db,
        AuditLog audit,
        TunnelOpener opener,
        DeviceCatalog catalog,
        CredentialVault vault,
        IOptions<PortholeServerOptions> options,
        ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var action = request.Action ?? Actions.Tunnel;
        if (!Actions.All.Contains(action))
        {
            return ApiProblem.Validation("action must be one of: " + string.Join(", ", Actions.All));
        }

        var (endpoint, notFound) = await EndpointsApi.FindAsync(context, db, audit, request.Device ?? "", request.Endpoint ?? "", Permissions.RemoteAccessConnect, action, cancellationToken);
        if (endpoint is null)
        {
            return notFound!;
        }

        var device = endpoint.Device!;
        var actor = context.User.GetActor();
        var target = $"device:{device.Name}/{endpoint.Name}";
        var serverSideSsh = action == Actions.Terminal && endpoint.Protocol == "ssh";
        if (serverSideSsh && endpoint.CredentialKind is not (CredentialKinds.SshPassword or CredentialKinds.SshKey))
        {
            var refusal = ApiProblem.Conflict(ProblemCodes.CredentialRequired,
                $"the browser terminal for {device.Name}/{endpoint.Name} needs a stored SSH credential (porthole endpoints set-credential); 'porthole forward' needs none");
            await audit.WriteAsync(actor, "session.open", target, AuditOutcomes.Failure, refusal.ProblemDetails.Detail, context.ClientAddress(), cancellationToken);
            return refusal;
        }

        // The opener's remote-access rules need the group tree; authentication loaded it for this request already.
        var access = context.GetUserAccess();
        catalog.UseGroups(access.Groups);
        var limits = options.Value.LimitsFor(access.RolesAllowing(Permissions.RemoteAccessConnect, device, action));
        var (session, problem) = await opener.OpenAsync(
            new TunnelRequest(device, endpoint, context.User.GetUserId()!, context.User.GetUsername(), actor, action, context.ClientAddress()) { Limits = limits }, cancellationToken);
        if (session is null)
        {
            return ApiProblem.WithRetryAfter(context, problem!);
        }

        session.Limits = limits;

        RelayLog.Opened(loggers.CreateLogger(typeof(SessionsApi)), session.Id, session.Target.Username, device.Name, endpoint.Name);
        if (serverSideSsh)
        {
            session.UseSshTerminal(new Ssh.SshTerminalTarget(endpoint.Id, endpoint.CredentialUsername ?? "", endpoint.CredentialKind!, vault.Unprotect(endpoint.ProtectedSecret!), endpoint.SshHostKey));
        }

        var storedVnc = action == Actions.Vnc && endpoint.CredentialKind == CredentialKinds.VncPassword && endpoint.ProtectedSecret is not null;
        if (storedVnc)
        {
            session.UseVncPassword(vault.Unprotect(endpoint.ProtectedSecret!).Password ?? "");
        }

        await audit.WriteAsync(actor, "session.open", target,
            detail: $"session {session.Id}, {action}, {endpoint.Protocol} {endpoint.Host}:{endpoint.Port}{(storedVnc ? ", stored VNC password" : "")}",
            clientAddress: context.ClientAddress(), cancellationToken: CancellationToken.None);
        var path = $"/api/v1/sessions/{session.Id}/stream";
        return TypedResults.Created(path, new CreateSessionResponse(session.Id, path, session.ClientKey, session.CreatedAt + options.Value.ClientAttachTimeout));
    }

    private static async Task StreamAsync(
        string sessionId, HttpContext context, ISessionBroker broker, DataLegAcceptor acceptor, IServiceScopeFactory scopes, TimeProvider time, IOptions<PortholeServerOptions> options, ILoggerFactory loggers)
    {
        var session = broker.Find(sessionId);
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await ApiProblem.WriteAsync(context, StatusCodes.Status400BadRequest, ProblemCodes.Validation, "WebSocket required", "this endpoint carries a session over a WebSocket");
            return;
        }

        // A browser attaches the session cookie to a WebSocket from any page (cross-site WebSocket hijacking): a
        // cookie-authenticated stream must come from the console's own origin. Bearer-token clients set no Origin.
        if (context.User.Identity?.AuthenticationType == WebSessions.SchemeName && !IsSameOrigin(context.Request))
        {
            await ApiProblem.WriteAsync(context, StatusCodes.Status403Forbidden, ProblemCodes.Forbidden, "Access denied",
                "a session stream opened with the session cookie must come from this server's own pages (Origin mismatch)");
            return;
        }

        var key = SessionKeyOf(context);

        if (session is null || !session.TryClaimClient(key, context.User.GetUserId() ?? ""))
        {
            await ApiProblem.WriteAsync(context, StatusCodes.Status404NotFound, ProblemCodes.SessionNotFound, "Not found", "the session does not exist, has expired or was already joined");
            return;
        }

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
        RelayLog.Ended(logger, session.Id, result.ClientToAgent.Bytes, result.AgentToClient.Bytes, reason, outcome.FrameRelayed ? "frame" : "websocket");
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
        if (!await session.WaitForClientAsync(options.Value.ClientAttachTimeout, time, context.RequestAborted))
        {
            RelayLog.Expired(loggers.CreateLogger(typeof(SessionsApi)), session.Id);
            broker.Remove(session);
            await (await leg.GetWebSocketAsync()).CloseAsync(WebSocketCloseStatus.PolicyViolation, "the client did not join the session in time", CancellationToken.None);
            return;
        }

        // Once a client has claimed the session, its request owns this leg (the relay reads the connection's pipes
        // directly) and ends on its own when the agent goes away. Returning early on RequestAborted would tear the
        // connection down under it, losing bytes the agent sent before leaving; the client's request always finishes
        // the session, so waiting for it is bounded.
        await session.Finished.WaitAsync(context.RequestAborted).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (!session.Finished.IsCompleted && session.ClientClaimed)
        {
            await session.Finished;
        }
    }
}
