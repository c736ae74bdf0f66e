using Porthole.Server.Data;
using Porthole.Server.Devices;

namespace Porthole.Server.Identity;

/// <summary>What one role grant allows: its role's permissions, limited to some devices and actions.</summary>
public sealed record GrantScope(
    IReadOnlySet<string> Permissions,
    IReadOnlyList<string> GroupIds,
    IReadOnlyList<string> Tags,
    IReadOnlyList<string> DeviceIds,
    IReadOnlyList<string> Actions,
    string? RoleName = null)
{
    public static GrantScope From(RoleGrant grant) => new(
        grant.Role!.Permissions.ToHashSet(StringComparer.Ordinal), grant.GroupIds, grant.Tags, grant.DeviceIds, grant.Actions, grant.Role.Name);

    /// <summary>No group, tag or device restriction: the grant covers every device.</summary>
    public bool CoversAllDevices => GroupIds.Count == 0 && Tags.Count == 0 && DeviceIds.Count == 0;

    /// <summary>Whether the grant reaches <paramref name="device"/> (its tags must be loaded).</summary>
    public bool Covers(Device device, GroupTree groups) =>
        CoversAllDevices
        || DeviceIds.Contains(device.Id)
        || device.Tags.Any(t => Tags.Contains(t.Tag))
        || groups.SelfAndAncestors(device.GroupId).Any(g => GroupIds.Contains(g.Id));

    /// <summary>Whether the grant reaches devices placed in <paramref name="groupId"/> (for registering one there).</summary>
    public bool CoversGroup(string? groupId, GroupTree groups) =>
        CoversAllDevices || groups.SelfAndAncestors(groupId).Any(g => GroupIds.Contains(g.Id));

    public bool Allows(string? action) => action is null || Actions.Count == 0 || Actions.Contains(action);
}
