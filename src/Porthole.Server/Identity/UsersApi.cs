using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Porthole.Protocol.Api;
using Porthole.Server.Audit;
using Porthole.Server.Data;
using Porthole.Server.Devices;
using Porthole.Server.Http;

namespace Porthole.Server.Identity;

/// <summary><c>/api/v1/users</c>: accounts and their role grants. Everything here needs <c>users:manage</c>.</summary>
public static class UsersApi
{
    public static void MapUsersApi(this IEndpointRouteBuilder api)
    {
        var users = api.MapGroup("/users").WithTags("Users").RequireAuthorization(Permissions.UsersManage);
        users.MapGet("/", ListAsync);
        users.MapPost("/", CreateAsync);
        users.MapGet("/{user}", ShowAsync);
        users.MapPatch("/{user}", UpdateAsync);
        users.MapDelete("/{user}", RemoveAsync);
        users.MapPost("/{user}/grants", AddGrantAsync);
        users.MapDelete("/{user}/grants/{grant}", RemoveGrantAsync);
    }

    private static async Task<Ok<List<UserDto>>> ListAsync(PortholeDbContext db, CancellationToken cancellationToken)
    {
        var users = await Query(db).OrderBy(u => u.Username).ToListAsync(cancellationToken);
        var names = await DeviceNamesAsync(db, cancellationToken);
        var groups = await GroupTree.LoadAsync(db, cancellationToken);
        return TypedResults.Ok(users.Select(u => ToDto(u, groups, names)).ToList());
    }

    private static async Task<Results<Ok<UserDto>, ProblemHttpResult>> ShowAsync(string user, PortholeDbContext db, CancellationToken cancellationToken)
    {
        var found = await FindAsync(db, user, cancellationToken);
        return found is null ? UserNotFound(user) : TypedResults.Ok(ToDto(found, await GroupTree.LoadAsync(db, cancellationToken), await DeviceNamesAsync(db, cancellationToken)));
    }

    private static async Task<Results<Created<CreateUserResponse>, ProblemHttpResult>> CreateAsync(
        CreateUserRequest request, HttpContext context, PortholeDbContext db, PasswordHashing hashing, AuditLog audit, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!Names.IsValid(request.Username))
        {
            return ApiProblem.Validation(Names.Rule("a username"));
        }

        if (await db.Users.AnyAsync(u => u.Username == request.Username, cancellationToken))
        {
            return ApiProblem.Conflict(ProblemCodes.Conflict, $"a user named '{request.Username}' already exists");
        }

        var generated = request.Password is null ? RandomNumberGenerator.GetString("abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", 20) : null;
        var password = request.Password ?? generated!;
        if (PasswordPolicy.Check(request.Username, password) is { } weak)
        {
            return ApiProblem.Validation(weak);
        }

        var roles = new List<Role>();
        foreach (var name in request.Roles ?? [])
        {
            var role = await RolesApi.FindAsync(db, name, cancellationToken);
            if (role is null)
            {
                return ApiProblem.Validation($"role '{name}' does not exist");
            }

            roles.Add(role);
        }

        var user = new User
        {
            Id = Guid.CreateVersion7().ToString("N"),
            Username = request.Username,
            PasswordHash = "",
            CreatedAt = time.GetUtcNow(),
            MustChangePassword = generated is not null,
        };
        user.PasswordHash = hashing.Hash(user, password);
        user.Grants.AddRange(roles.Select(r => new RoleGrant { Id = Guid.CreateVersion7().ToString("N"), UserId = user.Id, RoleId = r.Id, Role = r }));
        db.Users.Add(user);
        audit.Add(context.User.GetActor(), "user.create", "user:" + user.Username,
            detail: $"roles [{string.Join(", ", roles.Select(r => r.Name))}]{(generated is null ? "" : ", generated password")}", clientAddress: context.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);
        var dto = ToDto(user, await GroupTree.LoadAsync(db, cancellationToken), new Dictionary<string, string>());
        return TypedResults.Created($"/api/v1/users/{user.Id}", new CreateUserResponse(dto, generated));
    }

    private static async Task<Results<Ok<UserDto>, ProblemHttpResult>> UpdateAsync(
        string user, UpdateUserRequest request, HttpContext context, PortholeDbContext db, PasswordHashing hashing, AuditLog audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var found = await FindAsync(db, user, cancellationToken);
        if (found is null)
        {
            return UserNotFound(user);
        }

        var changes = new List<string>();
        if (request.Password is not null)
        {
            if (PasswordPolicy.Check(found.Username, request.Password) is { } weak)
            {
                return ApiProblem.Validation(weak);
            }

            found.PasswordHash = hashing.Hash(found, request.Password);
            found.MustChangePassword = found.Id != context.User.GetUserId();
            changes.Add("password reset");
        }

        if (request.Disabled is { } disabled && disabled != found.Disabled)
        {
            if (disabled && found.Id == context.User.GetUserId())
            {
                return ApiProblem.Conflict(ProblemCodes.Conflict, "you cannot disable your own account");
            }

            found.Disabled = disabled;
            changes.Add(disabled ? "disabled" : "enabled");
        }

        if (found.Disabled || request.Password is not null)
        {
            // A disabled account or a reset password ends every token of the user.
            var now = time.GetUtcNow();
            await db.ApiTokens.Where(t => t.UserId == found.Id && t.RevokedAt == null && t.Id != context.User.GetTokenId())
                .ExecuteUpdateAsync(t => t.SetProperty(x => x.RevokedAt, now), cancellationToken);
        }

        audit.Add(context.User.GetActor(), "user.update", "user:" + found.Username, detail: changes.Count == 0 ? "no change" : string.Join(", ", changes), clientAddress: context.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(ToDto(found, await GroupTree.LoadAsync(db, cancellationToken), await DeviceNamesAsync(db, cancellationToken)));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RemoveAsync(string user, HttpContext context, PortholeDbContext db, AuditLog audit, CancellationToken cancellationToken)
    {
        var found = await FindAsync(db, user, cancellationToken);
        if (found is null)
        {
            return UserNotFound(user);
        }

        if (found.Id == context.User.GetUserId())
        {
            return ApiProblem.Conflict(ProblemCodes.Conflict, "you cannot remove your own account");
        }

        db.Users.Remove(found);
        audit.Add(context.User.GetActor(), "user.remove", "user:" + found.Username, clientAddress: context.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<UserDto>, ProblemHttpResult>> AddGrantAsync(
        string user, AddGrantRequest request, HttpContext context, PortholeDbContext db, AuditLog audit, CancellationToken cancellationToken)
    {
        var found = await FindAsync(db, user, cancellationToken);
        if (found is null)
        {
            return UserNotFound(user);
        }

        var role = await RolesApi.FindAsync(db, request.Role, cancellationToken);
        if (role is null)
        {
            return ApiProblem.Validation($"role '{request.Role}' does not exist");
        }

        var groups = await GroupTree.LoadAsync(db, cancellationToken);
        var groupIds = new List<string>();
        foreach (var path in request.Groups ?? [])
        {
            var group = groups.FindByPath(path);
            if (group is null)
            {
                return ApiProblem.Validation($"group '{path}' does not exist");
            }

            groupIds.Add(group.Id);
        }

        var deviceIds = new List<string>();
        foreach (var name in request.Devices ?? [])
        {
            var device = await db.Devices.AsNoTracking().FindByIdOrNameAsync(name, cancellationToken);
            if (device is null)
            {
                return ApiProblem.Validation($"device '{name}' does not exist");
            }

            deviceIds.Add(device.Id);
        }

        var tags = (request.Tags ?? []).Distinct(StringComparer.Ordinal).ToList();
        if (tags.FirstOrDefault(t => !Names.IsValid(t)) is { } badTag)
        {
            return ApiProblem.Validation($"tag '{badTag}' is invalid: " + Names.Rule("a tag"));
        }

        var actions = (request.Actions ?? []).Distinct(StringComparer.Ordinal).ToList();
        if (actions.FirstOrDefault(a => !Actions.All.Contains(a)) is { } badAction)
        {
            return ApiProblem.Validation($"action '{badAction}' is unknown; actions are: {string.Join(", ", Actions.All)}");
        }

        var grant = new RoleGrant
        {
            Id = Guid.CreateVersion7().ToString("N"),
            UserId = found.Id,
            RoleId = role.Id,
            Role = role,
            GroupIds = groupIds,
            Tags = tags,
            DeviceIds = deviceIds,
            Actions = actions,
        };
        found.Grants.Add(grant);
        var names = await DeviceNamesAsync(db, cancellationToken);
        audit.Add(context.User.GetActor(), "user.grant-add", "user:" + found.Username, detail: Describe(ToDto(grant, groups, names)), clientAddress: context.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(ToDto(found, groups, names));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RemoveGrantAsync(
        string user, string grant, HttpContext context, PortholeDbContext db, AuditLog audit, CancellationToken cancellationToken)
    {
        var found = await FindAsync(db, user, cancellationToken);
        var target = found?.Grants.FirstOrDefault(g => g.Id == grant);
        if (found is null || target is null)
        {
            return ApiProblem.NotFound(ProblemCodes.Validation, $"user '{user}' has no grant '{grant}'");
        }

        found.Grants.Remove(target);
        db.RoleGrants.Remove(target);
        var detail = Describe(ToDto(target, await GroupTree.LoadAsync(db, cancellationToken), await DeviceNamesAsync(db, cancellationToken)));
        audit.Add(context.User.GetActor(), "user.grant-remove", "user:" + found.Username, detail: detail, clientAddress: context.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static IQueryable<User> Query(PortholeDbContext db) => db.Users.Include(u => u.Grants).ThenInclude(g => g.Role).AsSplitQuery();

    private static async Task<User?> FindAsync(PortholeDbContext db, string idOrName, CancellationToken cancellationToken) =>
        await Query(db).SingleOrDefaultAsync(u => u.Id == idOrName, cancellationToken)
        ?? await Query(db).SingleOrDefaultAsync(u => u.Username == idOrName, cancellationToken);

    private static Task<Dictionary<string, string>> DeviceNamesAsync(PortholeDbContext db, CancellationToken cancellationToken) =>
        db.Devices.AsNoTracking().ToDictionaryAsync(d => d.Id, d => d.Name, cancellationToken);

    private static ProblemHttpResult UserNotFound(string user) => ApiProblem.NotFound(ProblemCodes.Validation, $"user '{user}' not found");

    private static UserDto ToDto(User user, GroupTree groups, IReadOnlyDictionary<string, string> deviceNames) =>
        new(user.Id, user.Username, user.Disabled, user.MustChangePassword, user.CreatedAt, [.. user.Grants.Select(g => ToDto(g, groups, deviceNames))]);

    private static GrantDto ToDto(RoleGrant grant, GroupTree groups, IReadOnlyDictionary<string, string> deviceNames) => new(
        grant.Id,
        grant.Role?.Name ?? grant.RoleId,
        [.. grant.GroupIds.Select(id => groups.PathOf(id) ?? id)],
        grant.Tags,
        [.. grant.DeviceIds.Select(id => deviceNames.GetValueOrDefault(id, id))],
        grant.Actions);

    internal static string Describe(GrantDto grant)
    {
        var limits = new List<string>();
        if (grant.Groups.Count > 0)
        {
            limits.Add("groups " + string.Join(",", grant.Groups));
        }

        if (grant.Tags.Count > 0)
        {
            limits.Add("tags " + string.Join(",", grant.Tags));
        }

        if (grant.Devices.Count > 0)
        {
            limits.Add("devices " + string.Join(",", grant.Devices));
        }

        if (grant.Actions.Count > 0)
        {
            limits.Add("actions " + string.Join(",", grant.Actions));
        }

        return grant.Role + (limits.Count == 0 ? " (unrestricted)" : " on " + string.Join("; ", limits));
    }
}
