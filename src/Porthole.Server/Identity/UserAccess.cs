using Porthole.Server.Data;
using Porthole.Server.Devices;

namespace Porthole.Server.Identity;

/// <summary>
/// The signed-in user's rights for one request: their grants, narrowed by the API token's scopes.
/// See docs/design/access-control.md.
/// </summary>
public sealed class UserAccess(string userId, string username, IReadOnlyList<GrantScope> grants, IReadOnlySet<string>? tokenScopes, GroupTree groups)
{
    public string UserId { get; } = userId;

    public string Username { get; } = username;

    public GroupTree Groups { get; } = groups;

    /// <summary>Every permission the user holds somewhere (and the token allows).</summary>
    public IReadOnlySet<string> Permissions { get; } =
        grants.SelectMany(g => g.Permissions).Where(p => tokenScopes is null || tokenScopes.Contains(p)).ToHashSet(StringComparer.Ordinal);

    public bool Has(string permission) => Permissions.Contains(permission);

    /// <summary>Whether the user holds <paramref name="permission"/> on <paramref name="device"/>, for <paramref name="action"/> if given.</summary>
    public bool Can(string permission, Device device, string? action = null) =>
        Has(permission) && grants.Any(g => g.Permissions.Contains(permission) && g.Covers(device, Groups) && g.Allows(action));

    /// <summary>The roles whose grants allow <paramref name="permission"/> on <paramref name="device"/> for <paramref name="action"/> (per-role session limits).</summary>
    public IReadOnlyList<string> RolesAllowing(string permission, Device device, string? action) =>
        Has(permission)
            ? [.. grants.Where(g => g.RoleName is not null && g.Permissions.Contains(permission) && g.Covers(device, Groups) && g.Allows(action)).Select(g => g.RoleName!)]
            : [];

    /// <summary>Whether some grant holds <paramref name="permission"/> without any device restriction.</summary>
    public bool CanEverywhere(string permission) =>
        Has(permission) && grants.Any(g => g.Permissions.Contains(permission) && g.CoversAllDevices);

    /// <summary>Whether the user holds <paramref name="permission"/> for devices in <paramref name="groupId"/>.</summary>
    public bool CanInGroup(string permission, string? groupId) =>
        Has(permission) && grants.Any(g => g.Permissions.Contains(permission) && g.CoversGroup(groupId, Groups));

    /// <summary>Whether the user holds <paramref name="permission"/> for devices with <paramref name="tag"/>.</summary>
    public bool CanForTag(string permission, string tag) =>
        Has(permission) && grants.Any(g => g.Permissions.Contains(permission) && (g.CoversAllDevices || g.Tags.Contains(tag)));
}
