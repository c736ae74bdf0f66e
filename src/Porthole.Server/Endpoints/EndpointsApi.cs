using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Porthole.Protocol.Api;
using Porthole.Server.Audit;
using Porthole.Server.Data;
using Porthole.Server.Devices;
using Porthole.Server.Http;
using Porthole.Server.Identity;

namespace Porthole.Server.Endpoints;

/// <summary><c>/api/v1/devices/{device}/endpoints</c>: the services reachable through a gateway.</summary>
public static class EndpointsApi
{
    public static void MapEndpointsApi(this IEndpointRouteBuilder api)
    {
        var endpoints = api.MapGroup("/devices/{device}/endpoints").WithTags("Endpoints");
        endpoints.MapGet("/", ListAsync).RequireAuthorization(Permissions.RemoteAccessRead);
        endpoints.MapPost("/", CreateAsync).RequireAuthorization(Permissions.RemoteAccessConfigure);
        endpoints.MapGet("/{endpoint}", ShowAsync).RequireAuthorization(Permissions.RemoteAccessRead);
        endpoints.MapPatch("/{endpoint}", UpdateAsync).RequireAuthorization(Permissions.RemoteAccessConfigure);
        endpoints.MapDelete("/{endpoint}", RemoveAsync).RequireAuthorization(Permissions.RemoteAccessConfigure);
    }

    private static async Task<Results<Ok<List<EndpointDto>>, ProblemHttpResult>> ListAsync(string device, HttpContext context, PortholeDbContext db, AuditLog audit, CancellationToken cancellationToken)
    {
        var found = await db.Devices.AsNoTracking().Include(d => d.Endpoints).Include(d => d.Tags).FindByIdOrNameAsync(device, cancellationToken);
        if (found is null)
        {
            return DevicesApi.DeviceNotFound(device);
        }

        if (await DeviceAccess.CheckAsync(context, audit, found, Permissions.RemoteAccessRead) is { } denied)
        {
            return denied;
        }

        return TypedResults.Ok(found.Endpoints.OrderBy(e => e.Name, StringComparer.Ordinal).Select(e => ToDto(e, found)).ToList());
    }

    private static async Task<Results<Ok<EndpointDto>, ProblemHttpResult>> ShowAsync(string device, string endpoint, HttpContext context, PortholeDbContext db, AuditLog audit, CancellationToken cancellationToken)
    {
        var (found, problem) = await FindAsync(context, db, audit, device, endpoint, Permissions.RemoteAccessRead, null, cancellationToken);
        return found is null ? problem! : TypedResults.Ok(ToDto(found, found.Device!));
    }

    private static async Task<Results<Created<EndpointDto>, ProblemHttpResult>> CreateAsync(
        string device, CreateEndpointRequest request, HttpContext context, PortholeDbContext db, AuditLog audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var found = await db.Devices.Include(d => d.Endpoints).Include(d => d.Tags).FindByIdOrNameAsync(device, cancellationToken);
        if (found is null)
        {
            return DevicesApi.DeviceNotFound(device);
        }

        if (await DeviceAccess.CheckAsync(context, audit, found, Permissions.RemoteAccessConfigure) is { } denied)
        {
            return denied;
        }

        if ((Validate(request.Name, request.Host, request.Port, request.Protocol) ?? ValidateHostHeader(request.HostHeader)) is { } invalid)
        {
            return invalid;
        }

        if (found.Endpoints.Any(e => e.Name == request.Name))
        {
            return ApiProblem.Conflict(ProblemCodes.Conflict, $"device '{found.Name}' already has an endpoint named '{request.Name}'");
        }

        var endpoint = new DeviceEndpoint
        {
            Id = Guid.CreateVersion7().ToString("N"),
            DeviceId = found.Id,
            Name = request.Name,
            Host = request.Host,
            Port = request.Port,
            Protocol = request.Protocol,
            Description = request.Description,
            HostHeader = string.IsNullOrEmpty(request.HostHeader) ? null : request.HostHeader,
            RewriteAbsoluteLinks = request.RewriteAbsoluteLinks ?? false,
            CreatedAt = time.GetUtcNow(),
        };
        db.Endpoints.Add(endpoint);
        audit.Add(context.User.GetActor(), "endpoint.add", $"device:{found.Name}/{endpoint.Name}", detail: Describe(endpoint), clientAddress: context.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/v1/devices/{found.Id}/endpoints/{endpoint.Id}", ToDto(endpoint, found));
    }

    private static async Task<Results<Ok<EndpointDto>, ProblemHttpResult>> UpdateAsync(
        string device, string endpoint, UpdateEndpointRequest request, HttpContext context, PortholeDbContext db, AuditLog audit, CancellationToken cancellationToken)
    {
        var (found, problem) = await FindAsync(context, db, audit, device, endpoint, Permissions.RemoteAccessConfigure, null, cancellationToken);
        if (found is null)
        {
            return problem!;
        }

        var name = request.Name ?? found.Name;
        var host = request.Host ?? found.Host;
        var port = request.Port ?? found.Port;
        var protocol = request.Protocol ?? found.Protocol;
        if ((Validate(name, host, port, protocol) ?? ValidateHostHeader(request.HostHeader)) is { } invalid)
        {
            return invalid;
        }

        if (name != found.Name && await db.Endpoints.AnyAsync(e => e.DeviceId == found.DeviceId && e.Name == name, cancellationToken))
        {
            return ApiProblem.Conflict(ProblemCodes.Conflict, $"device '{found.Device!.Name}' already has an endpoint named '{name}'");
        }

        var before = Describe(found);
        (found.Name, found.Host, found.Port, found.Protocol) = (name, host, port, protocol);
        if (request.Description is not null)
        {
            found.Description = request.Description.Length == 0 ? null : request.Description;
        }

        if (request.HostHeader is not null)
        {
            found.HostHeader = request.HostHeader.Length == 0 ? null : request.HostHeader;
        }

        found.RewriteAbsoluteLinks = request.RewriteAbsoluteLinks ?? found.RewriteAbsoluteLinks;

        audit.Add(context.User.GetActor(), "endpoint.update", $"device:{found.Device!.Name}/{found.Name}", detail: $"{before} -> {Describe(found)}", clientAddress: context.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(ToDto(found, found.Device));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RemoveAsync(
        string device, string endpoint, HttpContext context, PortholeDbContext db, AuditLog audit, CancellationToken cancellationToken)
    {
        var (found, problem) = await FindAsync(context, db, audit, device, endpoint, Permissions.RemoteAccessConfigure, null, cancellationToken);
        if (found is null)
        {
            return problem!;
        }

        db.Endpoints.Remove(found);
        audit.Add(context.User.GetActor(), "endpoint.remove", $"device:{found.Device!.Name}/{found.Name}", detail: Describe(found), clientAddress: context.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// Finds an endpoint (by id or name) of a device (by id or name) on which the caller holds
    /// <paramref name="permission"/>, or the problem to return (404 when unseen, 403 when denied).
    /// </summary>
    internal static async Task<(DeviceEndpoint? Endpoint, ProblemHttpResult? Problem)> FindAsync(
        HttpContext context, PortholeDbContext db, AuditLog audit, string device, string endpoint, string permission, string? action, CancellationToken cancellationToken)
    {
        var owner = await db.Devices.Include(d => d.Endpoints).Include(d => d.Tags).FindByIdOrNameAsync(device, cancellationToken);
        return await CheckAsync(context, audit, owner, device, endpoint, permission, action);
    }

    /// <summary>
    /// <see cref="FindAsync"/> for a device the caller loaded (<paramref name="owner"/>, <c>null</c> when there is none
    /// by the name or id <paramref name="device"/>): the same rights checks, audit of a denial, and problems.
    /// </summary>
    internal static async Task<(DeviceEndpoint? Endpoint, ProblemHttpResult? Problem)> CheckAsync(
        HttpContext context, AuditLog audit, Device? owner, string device, string endpoint, string permission, string? action)
    {
        if (owner is null || !context.GetUserAccess().Can(Permissions.DevicesRead, owner))
        {
            return (null, DevicesApi.DeviceNotFound(device));
        }

        if (await DeviceAccess.CheckAsync(context, audit, owner, permission, action) is { } denied)
        {
            return (null, denied);
        }

        var found = owner.Endpoints.FirstOrDefault(e => e.Id == endpoint) ?? owner.Endpoints.FirstOrDefault(e => e.Name == endpoint);
        return found is null
            ? (null, ApiProblem.NotFound(ProblemCodes.EndpointNotFound, $"device '{owner.Name}' has no endpoint '{endpoint}'"))
            : (found, null);
    }

    private static ProblemHttpResult? Validate(string name, string host, int port, string protocol)
    {
        if (!Names.IsValid(name))
        {
            return ApiProblem.Validation(Names.Rule("an endpoint name"));
        }

        if (!Names.IsValidHost(host))
        {
            return ApiProblem.Validation("host must be a host name or IP address as the gateway sees it, without spaces or a scheme");
        }

        if (port is < 1 or > 65535)
        {
            return ApiProblem.Validation("port must be between 1 and 65535");
        }

        if (!EndpointProtocols.IsKnown(protocol))
        {
            return ApiProblem.Validation("protocol must be one of: " + string.Join(", ", EndpointProtocols.All));
        }

        return null;
    }

    /// <summary>A Host header is host[:port] and nothing else: no scheme, path, spaces or control characters.</summary>
    private static ProblemHttpResult? ValidateHostHeader(string? hostHeader)
    {
        if (string.IsNullOrEmpty(hostHeader))
        {
            return null;
        }

        var valid = hostHeader.Length <= 255
            && Uri.TryCreate("http://" + hostHeader + "/", UriKind.Absolute, out var uri)
            && uri.PathAndQuery == "/" && string.IsNullOrEmpty(uri.UserInfo)
            && hostHeader.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or ':' or '[' or ']');
        return valid ? null : ApiProblem.Validation("hostHeader must be host or host:port as the device expects it (no scheme, path or spaces)");
    }

    private static string Describe(DeviceEndpoint e) =>
        $"{e.Protocol} {e.Host}:{e.Port}{(e.HostHeader is null ? "" : $" (Host: {e.HostHeader})")}{(e.RewriteAbsoluteLinks ? " (rewrite links)" : "")}";

    internal static EndpointDto ToDto(DeviceEndpoint e, Device device) =>
        new(e.Id, device.Id, device.Name, e.Name, e.Host, e.Port, e.Protocol, e.Description,
            e.CredentialKind is null ? null : new StoredCredentialDto(e.CredentialKind, e.CredentialUsername, e.CredentialUpdatedAt),
            e.SshHostKey, e.HostHeader, e.RewriteAbsoluteLinks, e.TlsCertificateSha256);
}
