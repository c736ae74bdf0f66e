using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Porthole.Protocol.Api;
using Porthole.Server.Audit;
using Porthole.Server.Data;
using Porthole.Server.Http;

namespace Porthole.Server.Identity;

/// <summary><c>/api/v1/roles</c>: built-in roles (read-only) and custom ones. Needs <c>users:manage</c>.</summary>
public static class RolesApi
{
    public static void MapRolesApi(this IEndpointRouteBuilder api)
    {
        var roles = api.MapGroup("/roles").WithTags("Roles").RequireAuthorization(Permissions.UsersManage);
        roles.MapGet("/", ListAsync);
        roles.MapPost("/", CreateAsync);
        roles.MapPatch("/{role}", UpdateAsync);
        roles.MapDelete("/{role}", RemoveAsync);
    }

    private static async Task<Ok<List<RoleDto>>> ListAsync(PortholeDbContext db, CancellationToken cancellationToken) =>
        TypedResults.Ok((await db.Roles.AsNoTracking().OrderByDescending(r => r.BuiltIn).ThenBy(r => r.Name).ToListAsync(cancellationToken)).Select(ToDto).ToList());

    private static async Task<Results<Created<RoleDto>, ProblemHttpResult>> CreateAsync(CreateRoleRequest request, HttpContext context, PortholeDbContext db, AuditLog audit, CancellationToken cancellationToken)
    {
        if (!Names.IsValid(request.Name))
        {
            return ApiProblem.Validation(Names.Rule("a role name"));
        }

        if (ValidatePermissions(request.Permissions) is { } invalid)
        {
            return invalid;
        }

        if (await FindAsync(db, request.Name, cancellationToken) is not null)
        {
            return ApiProblem.Conflict(ProblemCodes.Conflict, $"a role named '{request.Name}' already exists");
        }

        var role = new Role { Id = Guid.CreateVersion7().ToString("N"), Name = request.Name, Description = request.Description, Permissions = [.. request.Permissions.Distinct()] };
        db.Roles.Add(role);
        audit.Add(context.User.GetActor(), "role.create", "role:" + role.Name, detail: string.Join(" ", role.Permissions), clientAddress: context.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/v1/roles/{role.Id}", ToDto(role));
    }

    private static async Task<Results<Ok<RoleDto>, ProblemHttpResult>> UpdateAsync(string role, UpdateRoleRequest request, HttpContext context, PortholeDbContext db, AuditLog audit, CancellationToken cancellationToken)
    {
        var found = await FindAsync(db, role, cancellationToken);
        if (found is null)
        {
            return RoleNotFound(role);
        }

        if (found.BuiltIn)
        {
            return ApiProblem.Conflict(ProblemCodes.Conflict, $"'{found.Name}' is a built-in role and cannot be changed; create a custom role instead");
        }

        if (request.Permissions is not null && ValidatePermissions(request.Permissions) is { } invalid)
        {
            return invalid;
        }

        var before = string.Join(" ", found.Permissions);
        found.Permissions = request.Permissions is null ? found.Permissions : [.. request.Permissions.Distinct()];
        found.Description = request.Description ?? found.Description;
        audit.Add(context.User.GetActor(), "role.update", "role:" + found.Name, detail: $"{before} -> {string.Join(" ", found.Permissions)}", clientAddress: context.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(ToDto(found));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RemoveAsync(string role, HttpContext context, PortholeDbContext db, AuditLog audit, CancellationToken cancellationToken)
    {
        var found = await FindAsync(db, role, cancellationToken);
        if (found is null)
        {
            return RoleNotFound(role);
        }

        if (found.BuiltIn)
        {
            return ApiProblem.Conflict(ProblemCodes.Conflict, $"'{found.Name}' is a built-in role and cannot be removed");
        }

        if (await db.RoleGrants.AnyAsync(g => g.RoleId == found.Id, cancellationToken))
        {
            return ApiProblem.Conflict(ProblemCodes.Conflict, $"role '{found.Name}' is granted to users; remove those grants first");
        }

        db.Roles.Remove(found);
        audit.Add(context.User.GetActor(), "role.remove", "role:" + found.Name, clientAddress: context.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    internal static async Task<Role?> FindAsync(PortholeDbContext db, string idOrName, CancellationToken cancellationToken) =>
        await db.Roles.SingleOrDefaultAsync(r => r.Id == idOrName, cancellationToken)
        ?? await db.Roles.SingleOrDefaultAsync(r => r.Name == idOrName, cancellationToken);

    private static ProblemHttpResult? ValidatePermissions(IReadOnlyList<string>? permissions)
    {
        if (permissions is null || permissions.Count == 0)
        {
            return ApiProblem.Validation("a role needs at least one permission");
        }

        return permissions.FirstOrDefault(p => !Permissions.All.Contains(p)) is { } unknown
            ? ApiProblem.Validation($"permission '{unknown}' is unknown; permissions are: {string.Join(", ", Permissions.All)}")
            : null;
    }

    private static ProblemHttpResult RoleNotFound(string role) => ApiProblem.NotFound(ProblemCodes.Validation, $"role '{role}' not found");

    private static RoleDto ToDto(Role role) => new(role.Id, role.Name, role.Description, role.BuiltIn, role.Permissions);
}
