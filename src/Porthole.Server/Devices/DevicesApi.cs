using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Porthole.Protocol.Api;
using Porthole.Protocol.Security;
using Porthole.Server.Agents;
using Porthole.Server.Audit;
using Porthole.Server.Data;
using Porthole.Server.Hosting;
using Porthole.Server.Http;
using Porthole.Server.Identity;

namespace Porthole.Server.Devices;

/// <summary><c>/api/v1/devices</c>: register, list, show, edit and remove gateways.</summary>
public static class DevicesApi
{
    public static void MapDevicesApi(this IEndpointRouteBuilder api)
    {
        var devices = api.MapGroup("/devices").WithTags("Devices");
        devices.MapGet("/", ListAsync).RequireAuthorization(Permissions.DevicesRead);
        devices.MapPost("/", CreateAsync).RequireAuthorization(Permissions.DevicesManage);
        devices.MapGet("/{device}", ShowAsync).RequireAuthorization(Permissions.DevicesRead);
        devices.MapPatch("/{device}", UpdateAsync).RequireAuthorization(Permissions.DevicesManage);
        devices.MapDelete("/{device}", RemoveAsync).RequireAuthorization(Permissions.DevicesManage);
        devices.MapPost("/{device}/enrolment-token", ReissueEnrolmentAsync).RequireAuthorization(Permissions.DevicesManage);
    }

    private static async Task<Ok<List<DeviceDto>>> ListAsync(HttpContext context, PortholeDbContext db, DeviceCatalog catalog, CancellationToken cancellationToken)
    {
        var access = context.GetUserAccess();
        var devices = await db.Devices.AsNoTracking().WithDetails().OrderBy(d => d.Name).ToListAsync(cancellationToken);
        var visible = new List<DeviceDto>();
        foreach (var device in devices.Where(d => access.Can(Permissions.DevicesRead, d)))
        {
            visible.Add(await catalog.ToDtoAsync(device, cancellationToken));
        }

        return TypedResults.Ok(visible);
    }

    private static async Task<Results<Ok<DeviceDto>, ProblemHttpResult>> ShowAsync(string device, HttpContext context, PortholeDbContext db, DeviceCatalog catalog, CancellationToken cancellationToken)
    {
        var found = await db.Devices.AsNoTracking().WithDetails().FindByIdOrNameAsync(device, cancellationToken);
        return found is null || !context.GetUserAccess().Can(Permissions.DevicesRead, found)
            ? DeviceNotFound(device)
            : TypedResults.Ok(await catalog.ToDtoAsync(found, cancellationToken));
    }

    private static async Task<Results<Created<CreateDeviceResponse>, ProblemHttpResult>> CreateAsync(
        CreateDeviceRequest request, HttpContext context, PortholeDbContext db, AuditLog audit, TimeProvider time, IOptions<PortholeServerOptions> options, CancellationToken cancellationToken)
    {
        if (!Names.IsValid(request.Name))
        {
            return ApiProblem.Validation(Names.Rule("a device name"));
        }

        var tags = (request.Tags ?? []).Distinct(StringComparer.Ordinal).ToList();
        if (ValidatePlacement(request.Group, tags) is { } invalid)
        {
            return invalid;
        }

        if (await db.Devices.AnyAsync(d => d.Name == request.Name, cancellationToken))
        {
            return ApiProblem.Conflict(ProblemCodes.Conflict, $"a device named '{request.Name}' already exists");
        }

        var access = context.GetUserAccess();
        var (group, deepestExisting) = GroupPaths.Resolve(db, access.Groups, request.Group);
        if (!access.CanInGroup(Permissions.DevicesManage, deepestExisting) && !tags.Any(t => access.CanForTag(Permissions.DevicesManage, t)))
        {
            return ApiProblem.Create(StatusCodes.Status403Forbidden, ProblemCodes.Forbidden, "Access denied",
                $"Access denied: {Permissions.DevicesManage} on group {request.Group ?? "(none)"}");
        }

        var now = time.GetUtcNow();
        var token = SecretTokens.Create(SecretTokens.EnrolmentPrefix);
        var device = new Device
        {
            Id = Guid.CreateVersion7().ToString("N"),
            Name = request.Name,
            CreatedAt = now,
            EnrolmentTokenHash = SecretTokens.Hash(token),
            EnrolmentExpiresAt = now + options.Value.EnrolmentTokenLifetime,
            Group = group,
        };
        device.Tags.AddRange(tags.Select(t => new DeviceTag { DeviceId = device.Id, Tag = t }));
        db.Devices.Add(device);
        audit.Add(context.User.GetActor(), "device.register", "device:" + device.Name, detail: Placement(request.Group, tags), clientAddress: context.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);

        return TypedResults.Created($"/api/v1/devices/{device.Id}", new CreateDeviceResponse(device.Id, device.Name, token, device.EnrolmentExpiresAt.Value));
    }

    private static async Task<Results<Ok<DeviceDto>, ProblemHttpResult>> UpdateAsync(
        string device, UpdateDeviceRequest request, HttpContext context, PortholeDbContext db, AuditLog audit, DeviceCatalog catalog, CancellationToken cancellationToken)
    {
        var found = await db.Devices.WithDetails().FindByIdOrNameAsync(device, cancellationToken);
        if (found is null)
        {
            return DeviceNotFound(device);
        }

        if (await DeviceAccess.CheckAsync(context, audit, found, Permissions.DevicesManage) is { } denied)
        {
            return denied;
        }

        var tags = request.Tags?.Distinct(StringComparer.Ordinal).ToList();
        if (request.Name is not null && !Names.IsValid(request.Name))
        {
            return ApiProblem.Validation(Names.Rule("a device name"));
        }

        if (ValidatePlacement(string.IsNullOrEmpty(request.Group) ? null : request.Group, tags ?? []) is { } invalid)
        {
            return invalid;
        }

        if (request.Name is not null && request.Name != found.Name && await db.Devices.AnyAsync(d => d.Name == request.Name, cancellationToken))
        {
            return ApiProblem.Conflict(ProblemCodes.Conflict, $"a device named '{request.Name}' already exists");
        }

        var access = context.GetUserAccess();
        var before = Placement(access.Groups.PathOf(found.GroupId), [.. found.Tags.Select(t => t.Tag)]);
        if (request.Group is not null)
        {
            var (group, deepestExisting) = GroupPaths.Resolve(db, access.Groups, request.Group.Length == 0 ? null : request.Group);
            if (!access.CanInGroup(Permissions.DevicesManage, deepestExisting))
            {
                return ApiProblem.Create(StatusCodes.Status403Forbidden, ProblemCodes.Forbidden, "Access denied",
                    $"Access denied: {Permissions.DevicesManage} on group {request.Group}");
            }

            found.Group = group;
            found.GroupId = group?.Id;
        }

        if (tags is not null)
        {
            found.Tags.RemoveAll(t => !tags.Contains(t.Tag));
            found.Tags.AddRange(tags.Where(t => found.Tags.All(existing => existing.Tag != t)).Select(t => new DeviceTag { DeviceId = found.Id, Tag = t }));
        }

        var oldName = found.Name;
        found.Name = request.Name ?? found.Name;
        var after = Placement(request.Group ?? access.Groups.PathOf(found.GroupId), [.. found.Tags.Select(t => t.Tag)]);
        audit.Add(context.User.GetActor(), "device.update", "device:" + oldName,
            detail: $"{(oldName != found.Name ? $"name {oldName} -> {found.Name}; " : "")}{before} -> {after}", clientAddress: context.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(await catalog.ToDtoAsync(found, cancellationToken));
    }

    private static async Task<Results<Ok<CreateDeviceResponse>, ProblemHttpResult>> ReissueEnrolmentAsync(
        string device, HttpContext context, PortholeDbContext db, AuditLog audit, TimeProvider time, IOptions<PortholeServerOptions> options, IDevicePresence presence, CancellationToken cancellationToken)
    {
        var found = await db.Devices.WithDetails().FindByIdOrNameAsync(device, cancellationToken);
        if (found is null)
        {
            return DeviceNotFound(device);
        }

        if (await DeviceAccess.CheckAsync(context, audit, found, Permissions.DevicesManage) is { } denied)
        {
            return denied;
        }

        // A new enrolment replaces the device's identity: the old credential stops working now.
        var token = SecretTokens.Create(SecretTokens.EnrolmentPrefix);
        found.EnrolmentTokenHash = SecretTokens.Hash(token);
        found.EnrolmentExpiresAt = time.GetUtcNow() + options.Value.EnrolmentTokenLifetime;
        found.CredentialHash = null;
        audit.Add(context.User.GetActor(), "device.enrolment-reissued", "device:" + found.Name, detail: "previous credential revoked", clientAddress: context.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);
        presence.Find(found.Id)?.Close("the device's credential was revoked");
        return TypedResults.Ok(new CreateDeviceResponse(found.Id, found.Name, token, found.EnrolmentExpiresAt.Value));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RemoveAsync(
        string device, HttpContext context, PortholeDbContext db, IDevicePresence presence, AuditLog audit, CancellationToken cancellationToken)
    {
        var found = await db.Devices.WithDetails().FindByIdOrNameAsync(device, cancellationToken);
        if (found is null)
        {
            return DeviceNotFound(device);
        }

        if (await DeviceAccess.CheckAsync(context, audit, found, Permissions.DevicesManage) is { } denied)
        {
            return denied;
        }

        db.Devices.Remove(found);
        await db.RemoteAccessRules.Where(r => r.Scope == RemoteAccess.RemoteAccessScopes.Device && r.Target == found.Id).ExecuteDeleteAsync(cancellationToken);
        audit.Add(context.User.GetActor(), "device.remove", "device:" + found.Name, clientAddress: context.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);
        presence.Find(found.Id)?.Close("the device was removed");
        return TypedResults.NoContent();
    }

    internal static ProblemHttpResult DeviceNotFound(string device) =>
        ApiProblem.NotFound(ProblemCodes.DeviceNotFound, $"device '{device}' not found");

    private static ProblemHttpResult? ValidatePlacement(string? group, IReadOnlyList<string> tags)
    {
        if (group is not null && (group.Split('/').Any(part => !Names.IsValid(part)) || group.Length > 255))
        {
            return ApiProblem.Validation("group must be a path of names separated by '/': " + Names.Rule("each name"));
        }

        if (tags.FirstOrDefault(t => !Names.IsValid(t)) is { } badTag)
        {
            return ApiProblem.Validation($"tag '{badTag}' is invalid: " + Names.Rule("a tag"));
        }

        return tags.Count > 64 ? ApiProblem.Validation("a device carries at most 64 tags") : null;
    }

    private static string Placement(string? group, IReadOnlyList<string> tags) =>
        $"group {group ?? "(none)"}, tags [{string.Join(", ", tags.Order(StringComparer.Ordinal))}]";
}
