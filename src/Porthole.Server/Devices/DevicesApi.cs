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

/// <summary><c>/api/v1/devices</c>: register, list, show and remove gateways.</summary>
public static class DevicesApi
{
    public static void MapDevicesApi(this IEndpointRouteBuilder api)
    {
        var devices = api.MapGroup("/devices").WithTags("Devices");
        devices.MapGet("/", ListAsync).RequireAuthorization(Permissions.DevicesRead);
        devices.MapPost("/", CreateAsync).RequireAuthorization(Permissions.DevicesManage);
        devices.MapGet("/{device}", ShowAsync).RequireAuthorization(Permissions.DevicesRead);
        devices.MapDelete("/{device}", RemoveAsync).RequireAuthorization(Permissions.DevicesManage);
        devices.MapPost("/{device}/enrolment-token", ReissueEnrolmentAsync).RequireAuthorization(Permissions.DevicesManage);
    }

    private static async Task<Ok<List<DeviceDto>>> ListAsync(PortholeDbContext db, IDevicePresence presence, TimeProvider time, CancellationToken cancellationToken)
    {
        var devices = await db.Devices.AsNoTracking().WithDetails().OrderBy(d => d.Name).ToListAsync(cancellationToken);
        return TypedResults.Ok(devices.Select(d => d.ToDto(presence, time)).ToList());
    }

    private static async Task<Results<Ok<DeviceDto>, ProblemHttpResult>> ShowAsync(string device, PortholeDbContext db, IDevicePresence presence, TimeProvider time, CancellationToken cancellationToken)
    {
        var found = await db.Devices.AsNoTracking().WithDetails().FindByIdOrNameAsync(device, cancellationToken);
        return found is null ? DeviceNotFound(device) : TypedResults.Ok(found.ToDto(presence, time));
    }

    private static async Task<Results<Created<CreateDeviceResponse>, ProblemHttpResult>> CreateAsync(
        CreateDeviceRequest request, HttpContext context, PortholeDbContext db, AuditLog audit, TimeProvider time, IOptions<PortholeServerOptions> options, CancellationToken cancellationToken)
    {
        if (!Names.IsValid(request.Name))
        {
            return ApiProblem.Validation(Names.Rule("a device name"));
        }

        if (request.Group is not null && !Names.IsValid(request.Group))
        {
            return ApiProblem.Validation(Names.Rule("a group name"));
        }

        var tags = (request.Tags ?? []).Distinct(StringComparer.Ordinal).ToList();
        if (tags.FirstOrDefault(t => !Names.IsValid(t)) is { } badTag)
        {
            return ApiProblem.Validation($"tag '{badTag}' is invalid: " + Names.Rule("a tag"));
        }

        if (await db.Devices.AnyAsync(d => d.Name == request.Name, cancellationToken))
        {
            return ApiProblem.Conflict(ProblemCodes.Conflict, $"a device named '{request.Name}' already exists");
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
            Group = request.Group is null ? null : await FindOrCreateGroupAsync(db, request.Group, cancellationToken),
        };
        device.Tags.AddRange(tags.Select(t => new DeviceTag { DeviceId = device.Id, Tag = t }));
        db.Devices.Add(device);
        audit.Add(context.User.GetActor(), "device.register", "device:" + device.Name);
        await db.SaveChangesAsync(cancellationToken);

        return TypedResults.Created($"/api/v1/devices/{device.Id}", new CreateDeviceResponse(device.Id, device.Name, token, device.EnrolmentExpiresAt.Value));
    }

    private static async Task<Results<Ok<CreateDeviceResponse>, ProblemHttpResult>> ReissueEnrolmentAsync(
        string device, HttpContext context, PortholeDbContext db, AuditLog audit, TimeProvider time, IOptions<PortholeServerOptions> options, CancellationToken cancellationToken)
    {
        var found = await db.Devices.FindByIdOrNameAsync(device, cancellationToken);
        if (found is null)
        {
            return DeviceNotFound(device);
        }

        // A new enrolment replaces the device's identity: the old credential stops working now.
        var token = SecretTokens.Create(SecretTokens.EnrolmentPrefix);
        found.EnrolmentTokenHash = SecretTokens.Hash(token);
        found.EnrolmentExpiresAt = time.GetUtcNow() + options.Value.EnrolmentTokenLifetime;
        found.CredentialHash = null;
        audit.Add(context.User.GetActor(), "device.enrolment-reissued", "device:" + found.Name);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(new CreateDeviceResponse(found.Id, found.Name, token, found.EnrolmentExpiresAt.Value));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RemoveAsync(
        string device, HttpContext context, PortholeDbContext db, IDevicePresence presence, AuditLog audit, CancellationToken cancellationToken)
    {
        var found = await db.Devices.FindByIdOrNameAsync(device, cancellationToken);
        if (found is null)
        {
            return DeviceNotFound(device);
        }

        db.Devices.Remove(found);
        audit.Add(context.User.GetActor(), "device.remove", "device:" + found.Name);
        await db.SaveChangesAsync(cancellationToken);
        presence.Find(found.Id)?.Close("the device was removed");
        return TypedResults.NoContent();
    }

    internal static ProblemHttpResult DeviceNotFound(string device) =>
        ApiProblem.NotFound(ProblemCodes.DeviceNotFound, $"device '{device}' not found");

    private static async Task<DeviceGroup> FindOrCreateGroupAsync(PortholeDbContext db, string name, CancellationToken cancellationToken)
    {
        // Groups named on registration are top-level; the access-control model adds nesting.
        var group = await db.DeviceGroups.SingleOrDefaultAsync(g => g.Name == name && g.ParentId == null, cancellationToken);
        if (group is null)
        {
            group = new DeviceGroup { Id = Guid.CreateVersion7().ToString("N"), Name = name };
            db.DeviceGroups.Add(group);
        }

        return group;
    }
}
