using Microsoft.EntityFrameworkCore;
using Porthole.Server.Data;

namespace Porthole.Server.Devices;

/// <summary>
/// The device group tree, loaded whole (it is small) for one request. Groups are addressed by path,
/// e.g. <c>plant-1/line-a</c>: names cannot contain '/', so a path is unambiguous.
/// </summary>
public sealed class GroupTree
{
    private readonly Dictionary<string, DeviceGroup> _byId;

    public GroupTree(IEnumerable<DeviceGroup> groups) => _byId = groups.ToDictionary(g => g.Id, StringComparer.Ordinal);

    public static async Task<GroupTree> LoadAsync(PortholeDbContext db, CancellationToken cancellationToken) =>
        new(await db.DeviceGroups.AsNoTracking().ToListAsync(cancellationToken));

    public IEnumerable<DeviceGroup> All => _byId.Values;

    public DeviceGroup? Find(string? id) => id is null ? null : _byId.GetValueOrDefault(id);

    /// <summary>The group itself, then its parent, up to the root.</summary>
    public IEnumerable<DeviceGroup> SelfAndAncestors(string? groupId)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var group = Find(groupId); group is not null && seen.Add(group.Id); group = Find(group.ParentId))
        {
            yield return group;
        }
    }

    /// <summary>The group's path from the root, e.g. <c>plant-1/line-a</c>.</summary>
    public string? PathOf(string? groupId) =>
        groupId is null ? null : string.Join('/', SelfAndAncestors(groupId).Reverse().Select(g => g.Name));

    /// <summary>Finds a group by path (or id).</summary>
    public DeviceGroup? FindByPath(string pathOrId)
    {
        if (_byId.TryGetValue(pathOrId, out var byId))
        {
            return byId;
        }

        DeviceGroup? current = null;
        foreach (var name in pathOrId.Split('/'))
        {
            current = _byId.Values.FirstOrDefault(g => g.Name == name && g.ParentId == current?.Id);
            if (current is null)
            {
                return null;
            }
        }

        return current;
    }
}
