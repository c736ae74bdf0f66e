using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Porthole.Protocol.Api;
using Porthole.Server.Audit;
using Porthole.Server.Data;
using Porthole.Server.Devices;
using Porthole.Server.Endpoints;
using Porthole.Server.Hosting;
using Porthole.Server.Http;
using Porthole.Server.Identity;
using Porthole.Server.Vault;

namespace Porthole.Server.Relay;

/// <summary>
/// Opens a session for the signed-in user: the action, the endpoint and the user's rights on it, the stored
/// credential a browser terminal needs, then the <see cref="TunnelOpener"/> (limits, remote-access rules, the agent's
/// dial), and the audit record of the open. Shared by <c>POST /api/v1/sessions</c> and the one-request
/// <c>GET /api/v1/sessions/connect</c>. A scoped service; a long-lived request takes it from a scope of its own, so
/// that it holds no database context for the session's life.
/// </summary>
public sealed class SessionOpening(
    AuditLog audit,
    TunnelOpener opener,
    DeviceCatalog catalog,
    DeviceSnapshots devices,
    CredentialVault vault,
    IOptions<PortholeServerOptions> options,
    ILoggerFactory loggers)
{
    /// <summary>The opened session, its agent leg attached, or the problem that says why there is none.</summary>
    public async Task<(PendingSession? Session, ProblemHttpResult? Problem)> OpenAsync(CreateSessionRequest request, HttpContext context, CancellationToken cancellationToken)
    {
        var action = request.Action ?? Actions.Tunnel;
        if (!Actions.All.Contains(action))
        {
            return (null, ApiProblem.Validation("action must be one of: " + string.Join(", ", Actions.All)));
        }

        // The device as the read cache has it: untracked and shared, so nothing below may change it.
        var owner = await devices.FindAsync(request.Device ?? "", cancellationToken);
        var (endpoint, notFound) = await EndpointsApi.CheckAsync(context, audit, owner, request.Device ?? "", request.Endpoint ?? "", Permissions.RemoteAccessConnect, action);
        if (endpoint is null)
        {
            return (null, notFound!);
        }

        var device = owner!;
        var actor = context.User.GetActor();
        var target = $"device:{device.Name}/{endpoint.Name}";
        var serverSideSsh = action == Actions.Terminal && endpoint.Protocol == "ssh";
        if (serverSideSsh && endpoint.CredentialKind is not (CredentialKinds.SshPassword or CredentialKinds.SshKey))
        {
            var refusal = ApiProblem.Conflict(ProblemCodes.CredentialRequired,
                $"the browser terminal for {device.Name}/{endpoint.Name} needs a stored SSH credential (porthole endpoints set-credential); 'porthole forward' needs none");
            await audit.WriteAsync(actor, "session.open", target, AuditOutcomes.Failure, refusal.ProblemDetails.Detail, context.ClientAddress(), cancellationToken);
            return (null, refusal);
        }

        // The opener's remote-access rules need the group tree; authentication loaded it for this request already.
        var access = context.GetUserAccess();
        catalog.UseGroups(access.Groups);
        var limits = options.Value.LimitsFor(access.RolesAllowing(Permissions.RemoteAccessConnect, device, action));
        var (session, problem) = await opener.OpenAsync(
            new TunnelRequest(device, endpoint, context.User.GetUserId()!, context.User.GetUsername(), actor, action, context.ClientAddress()) { Limits = limits }, cancellationToken);
        if (session is null)
        {
            return (null, ApiProblem.WithRetryAfter(context, problem!));
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
        return (session, null);
    }
}
