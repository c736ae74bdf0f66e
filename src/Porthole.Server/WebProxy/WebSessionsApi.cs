using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Porthole.Protocol.Api;
using Porthole.Server.Data;
using Porthole.Server.Http;
using Porthole.Server.Identity;

namespace Porthole.Server.WebProxy;

/// <summary>
/// <c>/api/v1/web-sessions</c>: open a device's web page through the proxy, and read a web session's request log.
/// Running web sessions are listed and ended with the other sessions (<c>/api/v1/sessions</c>).
/// </summary>
public static class WebSessionsApi
{
    private const int MaxRequests = 1000;

    public static void MapWebSessionsApi(this IEndpointRouteBuilder api)
    {
        var web = api.MapGroup("/web-sessions").WithTags("Web sessions");
        web.MapPost("/", StartAsync).RequireAuthorization(Permissions.RemoteAccessConnect);
        web.MapGet("/{sessionId}/requests", RequestsAsync).RequireAuthorization(Permissions.Authenticated);
    }

    private static async Task<Results<Created<WebSessionResponse>, ProblemHttpResult>> StartAsync(
        CreateWebSessionRequest request, HttpContext context, WebSessionLauncher launcher, CancellationToken cancellationToken)
    {
        var (start, problem) = await launcher.StartAsync(context, request.Device ?? "", request.Endpoint ?? "", cancellationToken);
        if (start is null)
        {
            return ApiProblem.WithRetryAfter(context, problem!);
        }

        return TypedResults.Created($"/api/v1/sessions/{start.Session.Id}",
            new WebSessionResponse(start.Session.Id, start.Url, start.Session.Origin.Value, start.TicketExpiresAt));
    }

    /// <summary>
    /// The request log of a web session: for its owner and holders of <c>sessions:manage</c> on its device while it
    /// runs, for holders of <c>audit:read</c> always (it belongs to the session's audit record).
    /// </summary>
    private static async Task<Results<Ok<List<WebRequestDto>>, ProblemHttpResult>> RequestsAsync(
        string sessionId, long? after, int? limit, HttpContext context, PortholeDbContext db, WebSessionRegistry registry, CancellationToken cancellationToken)
    {
        var size = limit ?? MaxRequests;
        if (size is < 1 or > MaxRequests)
        {
            return ApiProblem.Validation($"limit must be between 1 and {MaxRequests}");
        }

        var access = context.GetUserAccess();
        var allowed = access.Has(Permissions.AuditRead);
        if (!allowed && registry.Active.FirstOrDefault(s => s.Id == sessionId) is { } running)
        {
            var device = await db.Devices.AsNoTracking().Include(d => d.Tags).FirstOrDefaultAsync(d => d.Id == running.DeviceId, cancellationToken);
            allowed = running.UserId == access.UserId || (device is not null && access.Can(Permissions.SessionsManage, device));
        }

        if (!allowed)
        {
            return ApiProblem.NotFound(ProblemCodes.WebSessionNotFound, $"no web session '{sessionId}' whose requests you may read");
        }

        var from = after ?? 0;
        var requests = await db.WebRequests.AsNoTracking()
            .Where(r => r.SessionId == sessionId && r.Id > from)
            .OrderBy(r => r.Id)
            .Take(size)
            .Select(r => new WebRequestDto(r.Id, r.At, r.Method, r.Path, r.Status, r.BytesIn, r.BytesOut, r.DurationMs))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(requests);
    }
}
