using Porthole.Server.Data;

namespace Porthole.Server.Devices;

/// <summary>Turns a group path into groups, creating the missing tail (as <c>mkdir -p</c> does).</summary>
public static class GroupPaths
{
    /// <summary>
    /// The group at <paramref name="path"/> (created if missing, added to <paramref name="db"/> but not saved), and
    /// the id of the deepest group that already existed, against which the caller checks rights.
    /// </summary>
    public static (DeviceGroup? Group, string? DeepestExistingId) Resolve(PortholeDbContext db, GroupTree groups, string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return (null, null);
        }

        DeviceGroup? current = null;
        string? deepestExisting = null;
        var creating = false;
        foreach (var name in path.Split('/'))
        {
            var existing = creating ? null : groups.All.FirstOrDefault(g => g.Name == name && g.ParentId == current?.Id);
            if (existing is not null)
            {
                // The tree was loaded without tracking; attach the row we build on.
                current = db.DeviceGroups.Local.FirstOrDefault(g => g.Id == existing.Id) ?? db.DeviceGroups.Attach(existing).Entity;
                deepestExisting = existing.Id;
                continue;
            }

            creating = true;
            var created = new DeviceGroup { Id = Guid.CreateVersion7().ToString("N"), Name = name, ParentId = current?.Id };
            db.DeviceGroups.Add(created);
            current = created;
        }

        return (current, deepestExisting);
    }
}
