using System.Net;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Porthole.Protocol.Api;
using Porthole.Server.Audit;
using Porthole.Server.Data;
using Porthole.Server.Endpoints;
using Porthole.Server.Hosting;
using Porthole.Server.Http;
using Porthole.Server.Identity;
using Porthole.Server.Vault;

namespace Porthole.Server.WebProxy;

/// <summary>
/// Starts a web session for the caller (API and console alike): the same checks as any session, a first tunnel
/// connection that proves the device's page reachable, then the session's own origin and single-use entry ticket.
/// </summary>
public sealed class WebSessionLauncher(
    PortholeDbContext db,
    AuditLog audit,
    CredentialVault vault,
    WebSessionRegistry registry,
    IServiceScopeFactory scopes,
    TimeProvider time,
    IOptions<PortholeServerOptions> options,
    ILogger<WebSessionLauncher> logger)
{
    /// <summary>The path on a session origin that exchanges the ticket for the session cookie.</summary>
    public const string EnterPath = "/.porthole/enter";

    public async Task<(WebSessionStart? Start, ProblemHttpResult? Problem)> StartAsync(HttpContext context, string device, string endpoint, CancellationToken cancellationToken)
    {
        var (found, problem) = await EndpointsApi.FindAsync(context, db, audit, device, endpoint, Permissions.RemoteAccessConnect, Actions.Web, cancellationToken);
        if (found is null)
        {
            return (null, problem);
        }

        var owner = found.Device!;
        var actor = context.User.GetActor();
        if (found.Protocol is not ("http" or "https"))
        {
            var refusal = ApiProblem.Conflict(ProblemCodes.NotWebEndpoint,
                $"{owner.Name}/{found.Name} is a {found.Protocol} endpoint; only http and https endpoints have a web page to open");
            await audit.WriteAsync(actor, "session.open", $"device:{owner.Name}/{found.Name}", AuditOutcomes.Failure, refusal.ProblemDetails.Detail, context.ClientAddress(), cancellationToken);
            return (null, refusal);
        }

        var settings = options.Value.WebProxy;
        var info = new WebSessionInfo(WebSessionId.Create(), context.User.GetUserId()!, context.User.GetUsername(), owner.Id, owner.Name, found.Id, found.Name, found.Protocol, context.ClientAddress());
        var stored = found.CredentialKind == CredentialKinds.HttpPassword && found.ProtectedSecret is not null;
        var session = new WebSession(info, OriginFor(context, info.Id, settings), new DeviceAddress(found.Protocol, found.Host, found.Port, found.HostHeader), time.GetUtcNow())
        {
            UsesStoredCredential = stored,
            PinnedCertificate = found.TlsCertificateSha256,
        };
        var connector = new TunnelConnector(session, scopes, logger);

        // The first connection proves the page reachable (agent, target, TLS certificate) before the user gets a URL,
        // so a failure is a clear answer here rather than an error page later; the first request then reuses it.
        try
        {
            session.KeepWarm(await connector.OpenAsync(checkLimits: true, cancellationToken));
        }
        catch (WebProxyException refused)
        {
            return (null, refused.Problem);
        }

        var credential = stored ? new NetworkCredential(found.CredentialUsername, vault.Unprotect(found.ProtectedSecret!).Password) : null;
        session.Invoker = new HttpMessageInvoker(CreateHandler(connector, settings, credential), disposeHandler: true);
        session.Transformer = new DeviceTransformer(session, found.RewriteAbsoluteLinks, settings.RewriteBodyLimitBytes);
        var ticketExpiresAt = time.GetUtcNow() + settings.TicketLifetime;
        var ticket = session.IssueTicket(ticketExpiresAt);
        registry.Add(session);

        WebProxyLog.Opened(logger, session.Id, info.Username, owner.Name, found.Name);
        await audit.WriteAsync(actor, "session.open", $"device:{owner.Name}/{found.Name}",
            detail: $"web session {session.Id}, web, {found.Protocol} {found.Host}:{found.Port}{(stored ? ", stored HTTP credential" : "")}",
            clientAddress: context.ClientAddress(), cancellationToken: CancellationToken.None);
        var url = $"{session.Origin}{EnterPath}?ticket={Uri.EscapeDataString(ticket)}";
        return (new WebSessionStart(session, url, ticketExpiresAt), null);
    }

    /// <summary>
    /// The session's origin: <see cref="WebProxyOptions.PublicOrigin"/> with the id for <c>*</c>, else the scheme and
    /// port the caller reached the console on, with the web-proxy domain.
    /// </summary>
    internal static SessionOrigin OriginFor(HttpContext context, string id, WebProxyOptions settings)
    {
        if (settings.PublicOrigin is { } pattern)
        {
            var uri = new Uri(pattern.Replace("*", id, StringComparison.Ordinal));
            return new SessionOrigin(uri.Scheme, uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}");
        }

        var port = context.Request.Host.Port;
        var host = $"{id}.{settings.Domain}";
        return new SessionOrigin(context.Request.Scheme, port is null ? host : $"{host}:{port}");
    }

    private SocketsHttpHandler CreateHandler(TunnelConnector connector, WebProxyOptions settings, NetworkCredential? credential) =>
        new()
        {
            ConnectCallback = connector.ConnectAsync,
            MaxConnectionsPerServer = settings.MaxConnectionsPerSession,
            PooledConnectionIdleTimeout = settings.ConnectionIdleTimeout,
            ConnectTimeout = options.Value.TargetConnectTimeout + TimeSpan.FromSeconds(15),

            // A proxy passes the device's answers through as they are: no redirects followed, no cookie jar, no
            // decompression, no proxy of its own, no tracing headers added.
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ActivityHeadersPropagator = null,

            // With a stored credential the handler answers basic and digest challenges itself (basic pre-sent after the first).
            Credentials = credential,
            PreAuthenticate = credential is not null,
        };
}

/// <summary>A started web session and the URL (with its single-use ticket) that opens it in a browser.</summary>
public sealed record WebSessionStart(WebSession Session, string Url, DateTimeOffset TicketExpiresAt);
