using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Porthole.Protocol.Api;
using Porthole.Server.Audit;
using Porthole.Server.Data;
using Porthole.Server.Devices;
using Porthole.Server.Http;
using Porthole.Server.Identity;
using Porthole.Server.Relay;

namespace Porthole.Server.RemoteAccess;

/// <summary>
/// <c>/api/v1/remote-access</c>: rules that switch remote access per global/group/tag/device scope. Changes are
/// staged and take effect on commit (as in qbee). See docs/design/access-control.md for precedence.
/// </summary>
public static class RemoteAccessApi
{
    public static void MapRemoteAccessApi(this IEndpointRouteBuilder api)
    {
        var rules = api.MapGroup("/remote-access").WithTags("Remote access settings");
        rules.MapGet("/rules", ListAsync).RequireAuthorization(Permissions.RemoteAccessRead);
        rules.MapPut("/rules", StageAsync).RequireAuthorization(Permissions.RemoteAccessConfigure);
        rules.MapPost("/commit", CommitAsync).RequireAuthorization(Permissions.RemoteAccessConfigure);
        rules.MapPost("/discard", DiscardAsync).RequireAuthorization(Permissions.RemoteAccessConfigure);
    }

    private static async Task<Ok<List<RemoteAccessRuleDto>>> ListAsync(HttpContext context, PortholeDbContext db, CancellationToken cancellationToken)
    {
        var access = context.GetUserAccess();
        var devices = await db.Devices.AsNoTracking().Include(d => d.Tags).ToDictionaryAsync(d => d.Id, cancellationToken);
        var rules = await db.RemoteAccessRules.AsNoTracking().ToListAsync(cancellationToken);
        return TypedResults.Ok(rules
            .Where(r => r.Scope != RemoteAccessScopes.Device || (devices.TryGetValue(r.Target, out var d) && access.Can(Permissions.DevicesRead, d)))
            .OrderBy(r => RemoteAccessScopes.All.ToList().IndexOf(r.Scope)).ThenBy(r => r.Target, StringComparer.Ordinal).ThenBy(r => r.Staged)
            .Select(r => ToDto(r, access.Groups, devices))
            .ToList());
    }

    private static async Task<Results<Ok<RemoteAccessRuleDto>, ProblemHttpResult>> StageAsync(
        StageRuleRequest request, HttpContext context, PortholeDbContext db, AuditLog audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var (target, problem) = await ResolveTargetAsync(context, db, request.Scope, request.Target, cancellationToken);
        if (target is null)
        {
            return problem!;
        }

        var staged = await db.RemoteAccessRules.SingleOrDefaultAsync(r => r.Scope == request.Scope && r.Target == target && r.Staged, cancellationToken);
        if (staged is null)
        {
            staged = new RemoteAccessRule { Scope = request.Scope, Target = target, Staged = true, UpdatedBy = "" };
            db.RemoteAccessRules.Add(staged);
        }

        staged.Enabled = request.Enabled;
        staged.UpdatedAt = time.GetUtcNow();
        staged.UpdatedBy = context.User.GetUsername();
        audit.Add(context.User.GetActor(), "remote-access.stage", $"{request.Scope}:{request.Target ?? ""}", detail: Describe(request.Enabled), clientAddress: context.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);
        var devices = await db.Devices.AsNoTracking().ToDictionaryAsync(d => d.Id, cancellationToken);
        return TypedResults.Ok(ToDto(staged, context.GetUserAccess().Groups, devices));
    }

    private static async Task<Results<Ok<CommitResponse>, ProblemHttpResult>> CommitAsync(
        HttpContext context, PortholeDbContext db, AuditLog audit, OpenSessions sessions, CancellationToken cancellationToken)
    {
        var staged = await db.RemoteAccessRules.Where(r => r.Staged).ToListAsync(cancellationToken);
        foreach (var rule in staged)
        {
            if (!await MayConfigureAsync(context, db, rule, cancellationToken))
            {
                return ApiProblem.Create(StatusCodes.Status403Forbidden, ProblemCodes.Forbidden, "Access denied",
                    $"Access denied: {Permissions.RemoteAccessConfigure} on {rule.Scope} {rule.Target}; the staged change must be committed by someone who may configure it");
            }
        }

        // Old committed rows go first: a staged row becomes committed under the same unique (scope, target).
        var devices = await db.Devices.AsNoTracking().ToDictionaryAsync(d => d.Id, cancellationToken);
        var groups = context.GetUserAccess().Groups;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        foreach (var rule in staged)
        {
            await db.RemoteAccessRules.Where(r => !r.Staged && r.Scope == rule.Scope && r.Target == rule.Target).ExecuteDeleteAsync(cancellationToken);
            var shown = ToDto(rule, groups, devices);
            audit.Add(context.User.GetActor(), "remote-access.apply", $"{shown.Scope}:{shown.Target}", detail: $"{Describe(rule.Enabled)} (staged by {rule.UpdatedBy})", clientAddress: context.ClientAddress());
        }

        await db.RemoteAccessRules.Where(r => r.Staged && r.Enabled == null).ExecuteDeleteAsync(cancellationToken);
        await db.RemoteAccessRules.Where(r => r.Staged).ExecuteUpdateAsync(r => r.SetProperty(x => x.Staged, false), cancellationToken);
        audit.Add(context.User.GetActor(), "remote-access.commit", null, detail: $"{staged.Count} change(s) applied", clientAddress: context.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        // Disabling cuts access now: sessions already open on a device the rules now disable end with the rule's name.
        var ended = await sessions.EndWhereDisabledAsync(cancellationToken);
        foreach (var (session, source) in ended)
        {
            await audit.WriteAsync(context.User.GetActor(), "session.terminate", $"device:{session.DeviceName}/{session.EndpointName}",
                detail: $"session {session.Id} of {session.Username}: remote access disabled by {source}", clientAddress: context.ClientAddress(), cancellationToken: cancellationToken);
        }

        return TypedResults.Ok(new CommitResponse(staged.Count, ended.Count));
    }

    private static async Task<Ok<CommitResponse>> DiscardAsync(HttpContext context, PortholeDbContext db, AuditLog audit, CancellationToken cancellationToken)
    {
        var staged = await db.RemoteAccessRules.Where(r => r.Staged).ToListAsync(cancellationToken);
        var mine = new List<RemoteAccessRule>();
        foreach (var rule in staged)
        {
            if (await MayConfigureAsync(context, db, rule, cancellationToken))
            {
                mine.Add(rule);
            }
        }

        db.RemoteAccessRules.RemoveRange(mine);
        audit.Add(context.User.GetActor(), "remote-access.discard", null, detail: $"{mine.Count} staged change(s) discarded", clientAddress: context.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(new CommitResponse(mine.Count));
    }

    /// <summary>Maps a scope and a user-facing target (group path, tag, device name) to the stored target, checking rights.</summary>
    private static async Task<(string? Target, ProblemHttpResult? Problem)> ResolveTargetAsync(HttpContext context, PortholeDbContext db, string? scope, string? target, CancellationToken cancellationToken)
    {
        var access = context.GetUserAccess();
        var denied = ApiProblem.Create(StatusCodes.Status403Forbidden, ProblemCodes.Forbidden, "Access denied", $"Access denied: {Permissions.RemoteAccessConfigure} on {scope} {target}".TrimEnd());
        switch (scope)
        {
            case RemoteAccessScopes.Global:
                return access.CanEverywhere(Permissions.RemoteAccessConfigure) ? ("", null) : (null, denied);

            case RemoteAccessScopes.Group:
                var group = target is null ? null : access.Groups.FindByPath(target);
                if (group is null)
                {
                    return (null, ApiProblem.NotFound(ProblemCodes.Validation, $"group '{target}' not found"));
                }

                return access.CanInGroup(Permissions.RemoteAccessConfigure, group.Id) ? (group.Id, null) : (null, denied);

            case RemoteAccessScopes.Tag:
                if (!Names.IsValid(target))
                {
                    return (null, ApiProblem.Validation(Names.Rule("a tag")));
                }

                return access.CanForTag(Permissions.RemoteAccessConfigure, target!) ? (target, null) : (null, denied);

            case RemoteAccessScopes.Device:
                var device = target is null ? null : await db.Devices.AsNoTracking().Include(d => d.Tags).FindByIdOrNameAsync(target, cancellationToken);
                if (device is null || !access.Can(Permissions.DevicesRead, device))
                {
                    return (null, DevicesApi.DeviceNotFound(target ?? ""));
                }

                return access.Can(Permissions.RemoteAccessConfigure, device) ? (device.Id, null) : (null, denied);

            default:
                return (null, ApiProblem.Validation("scope must be one of: " + string.Join(", ", RemoteAccessScopes.All)));
        }
    }

    private static async Task<bool> MayConfigureAsync(HttpContext context, PortholeDbContext db, RemoteAccessRule rule, CancellationToken cancellationToken)
    {
        var access = context.GetUserAccess();
        return rule.Scope switch
        {
            RemoteAccessScopes.Global => access.CanEverywhere(Permissions.RemoteAccessConfigure),
            RemoteAccessScopes.Group => access.CanInGroup(Permissions.RemoteAccessConfigure, rule.Target),
            RemoteAccessScopes.Tag => access.CanForTag(Permissions.RemoteAccessConfigure, rule.Target),
            RemoteAccessScopes.Device => await db.Devices.AsNoTracking().Include(d => d.Tags).SingleOrDefaultAsync(d => d.Id == rule.Target, cancellationToken) is { } device
                && access.Can(Permissions.RemoteAccessConfigure, device),
            _ => false,
        };
    }

    private static string Describe(bool? enabled) => enabled switch
    {
        true => "enable",
        false => "disable",
        null => "remove rule",
    };

    private static RemoteAccessRuleDto ToDto(RemoteAccessRule rule, GroupTree groups, IReadOnlyDictionary<string, Device> devices)
    {
        var target = rule.Scope switch
        {
            RemoteAccessScopes.Group => groups.PathOf(rule.Target) ?? rule.Target,
            RemoteAccessScopes.Device => devices.TryGetValue(rule.Target, out var d) ? d.Name : rule.Target,
            _ => rule.Target,
        };
        return new RemoteAccessRuleDto(rule.Scope, target, rule.Enabled, rule.Staged, rule.UpdatedAt, rule.UpdatedBy);
    }
}
