using Porthole.Server.Data;
using Porthole.Server.Devices;

namespace Porthole.Server.RemoteAccess;

/// <summary>Whether remote access is on for a device, and which rule decided it (e.g. "group plant-2").</summary>
public readonly record struct EffectiveRemoteAccess(bool Enabled, string Source)
{
    /// <summary>
    /// Applies the precedence of docs/design/access-control.md: agent kill switch, then device, tag (disabling wins),
    /// nearest group, global, and enabled by default.
    /// </summary>
    public static EffectiveRemoteAccess Evaluate(Device device, bool agentEnabled, IReadOnlyList<RemoteAccessRule> committed, GroupTree groups)
    {
        if (!agentEnabled)
        {
            return new(false, "agent");
        }

        if (Find(committed, RemoteAccessScopes.Device, device.Id) is { } deviceRule)
        {
            return new(deviceRule, "device " + device.Name);
        }

        var tagRules = device.Tags
            .Select(t => (t.Tag, Enabled: Find(committed, RemoteAccessScopes.Tag, t.Tag)))
            .Where(r => r.Enabled is not null)
            .OrderBy(r => r.Enabled)
            .ThenBy(r => r.Tag, StringComparer.Ordinal)
            .ToList();
        if (tagRules.Count > 0)
        {
            // false sorts first: one disabling tag outweighs any enabling ones (fail closed).
            return new(tagRules[0].Enabled!.Value, "tag " + tagRules[0].Tag);
        }

        foreach (var group in groups.SelfAndAncestors(device.GroupId))
        {
            if (Find(committed, RemoteAccessScopes.Group, group.Id) is { } groupRule)
            {
                return new(groupRule, "group " + groups.PathOf(group.Id));
            }
        }

        if (Find(committed, RemoteAccessScopes.Global, "") is { } globalRule)
        {
            return new(globalRule, "global");
        }

        return new(true, "default");
    }

    private static bool? Find(IReadOnlyList<RemoteAccessRule> rules, string scope, string target) =>
        rules.FirstOrDefault(r => !r.Staged && r.Scope == scope && r.Target == target)?.Enabled;
}
