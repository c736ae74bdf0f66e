using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Porthole.Protocol.Api;
using Porthole.Server.Audit;
using Porthole.Server.Data;
using Porthole.Server.Http;
using Porthole.Server.Identity;

namespace Porthole.Server.Devices;

/// <summary><c>/api/v1/groups</c>: the device group tree, addressed by path (<c>plant-1/line-a</c>).</summary>
public static class GroupsApi
{
    public static void MapGroupsApi(this IEndpointRouteBuilder api)
    {
        var groups = api.MapGroup("/groups").WithTags("Groups");
        groups.MapGet("/", ListAsync).RequireAuthorization(Permissions.DevicesRead);
        groups.MapPost("/", CreateAsync).RequireAuthorization(Permissions.DevicesManage);
        groups.MapDelete("/{**path}", RemoveAsync).RequireAuthorization(Permissions.DevicesManage);
    }

    private static async Task<Ok<List<GroupDto>>> ListAsync(HttpContext context, PortholeDbContext db, CancellationToken cancellationToken)
    {
        var access = context.GetUserAccess();
        var counts = await db.Devices.Where(d => d.GroupId != null).GroupBy(d => d.GroupId!).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken);
        var tree = access.Groups;
        var visible = tree.All
            .Where(g => access.CanInGroup(Permissions.DevicesRead, g.Id))
            .Select(g => new GroupDto(g.Id, g.Name, tree.PathOf(g.Id)!, tree.PathOf(g.ParentId), counts.GetValueOrDefault(g.Id)))
            .OrderBy(g => g.Path, StringComparer.Ordinal)
            .ToList();
        return TypedResults.Ok(visible);
    }

    private static async Task<Results<Created<GroupDto>, ProblemHttpResult>> CreateAsync(CreateGroupRequest request, HttpContext context, PortholeDbContext db, AuditLog audit, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.Path) || request.Path.Length > 255 || request.Path.Split('/').Any(part => !Names.IsValid(part)))
        {
            return ApiProblem.Validation("path must be group names separated by '/': " + Names.Rule("each name"));
        }

        var access = context.GetUserAccess();
        if (access.Groups.FindByPath(request.Path) is not null)
        {
            return ApiProblem.Conflict(ProblemCodes.Conflict, $"group '{request.Path}' already exists");
        }

        var (group, deepestExisting) = GroupPaths.Resolve(db, access.Groups, request.Path);
        if (!access.CanInGroup(Permissions.DevicesManage, deepestExisting))
        {
            return ApiProblem.Create(StatusCodes.Status403Forbidden, ProblemCodes.Forbidden, "Access denied", $"Access denied: {Permissions.DevicesManage} on group {request.Path}");
        }

        audit.Add(context.User.GetActor(), "group.create", "group:" + request.Path, clientAddress: context.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);
        var parent = request.Path.Contains('/', StringComparison.Ordinal) ? request.Path[..request.Path.LastIndexOf('/')] : null;
        return TypedResults.Created($"/api/v1/groups/{request.Path}", new GroupDto(group!.Id, group.Name, request.Path, parent, 0));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RemoveAsync(string path, HttpContext context, PortholeDbContext db, AuditLog audit, CancellationToken cancellationToken)
    {
        var access = context.GetUserAccess();
        var group = access.Groups.FindByPath(path);
        if (group is null || !access.CanInGroup(Permissions.DevicesRead, group.Id))
        {
            return ApiProblem.NotFound(ProblemCodes.Validation, $"group '{path}' not found");
        }

        if (!access.CanInGroup(Permissions.DevicesManage, group.Id))
        {
            return ApiProblem.Create(StatusCodes.Status403Forbidden, ProblemCodes.Forbidden, "Access denied", $"Access denied: {Permissions.DevicesManage} on group {path}");
        }

        if (access.Groups.All.Any(g => g.ParentId == group.Id) || await db.Devices.AnyAsync(d => d.GroupId == group.Id, cancellationToken))
        {
            return ApiProblem.Conflict(ProblemCodes.Conflict, $"group '{path}' is not empty; move its devices and subgroups first");
        }

        await db.DeviceGroups.Where(g => g.Id == group.Id).ExecuteDeleteAsync(cancellationToken);
        await db.RemoteAccessRules.Where(r => r.Scope == RemoteAccess.RemoteAccessScopes.Group && r.Target == group.Id).ExecuteDeleteAsync(cancellationToken);
        await audit.WriteAsync(context.User.GetActor(), "group.remove", "group:" + path, clientAddress: context.ClientAddress(), cancellationToken: cancellationToken);
        return TypedResults.NoContent();
    }
}
