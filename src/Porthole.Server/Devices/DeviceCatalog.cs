using Microsoft.EntityFrameworkCore;
using Porthole.Protocol.Api;
using Porthole.Server.Agents;
using Porthole.Server.Data;
using Porthole.Server.RemoteAccess;

namespace Porthole.Server.Devices;

/// <summary>
/// Shapes devices for the API with their live state (presence) and effective remote-access setting. Loads the
/// committed rules and the group tree once per request; the rules through the <see cref="ReadCache"/>, as every
/// session's opening needs them.
/// </summary>
public sealed class DeviceCatalog(PortholeDbContext db, ReadCache cache, IDevicePresence presence, TimeProvider time)
{
    private List<RemoteAccessRule>? _rules;
    private GroupTree? _groups;

    public async Task<GroupTree> GroupsAsync(CancellationToken cancellationToken) =>
        _groups ??= await GroupTree.LoadAsync(db, cancellationToken);

    /// <summary>
    /// Uses <paramref name="groups"/>, loaded earlier in the same request (the caller's <see cref="Identity.UserAccess"/>
    /// has one), instead of loading the tree again: the same per-request snapshot, one round trip fewer.
    /// </summary>
    public void UseGroups(GroupTree groups) => _groups ??= groups;

    public async Task<EffectiveRemoteAccess> EffectiveAsync(Device device, CancellationToken cancellationToken)
    {
        _rules ??= (await cache.GetOrReadAsync<List<RemoteAccessRule>>("remote-access-rules",
            async () => await db.RemoteAccessRules.AsNoTracking().Where(r => !r.Staged).ToListAsync(cancellationToken)))!;
        var groups = await GroupsAsync(cancellationToken);
        var agentEnabled = presence.Find(device.Id)?.RemoteAccessEnabled ?? device.AgentRemoteAccessEnabled;
        return EffectiveRemoteAccess.Evaluate(device, agentEnabled, _rules, groups);
    }

    public async Task<DeviceDto> ToDtoAsync(Device device, CancellationToken cancellationToken)
    {
        var channel = presence.Find(device.Id);
        var effective = await EffectiveAsync(device, cancellationToken);
        var groups = await GroupsAsync(cancellationToken);
        return new DeviceDto(
            device.Id,
            device.Name,
            groups.PathOf(device.GroupId),
            [.. device.Tags.Select(t => t.Tag).Order(StringComparer.Ordinal)],
            Online: channel is not null,
            LastSeenAt: channel is not null ? time.GetUtcNow() : device.LastSeenAt,
            AgentVersion: channel?.AgentVersion ?? device.AgentVersion,
            Enrolled: device.CredentialHash is not null,
            RemoteAccessEnabled: effective.Enabled,
            RemoteAccessSource: effective.Source,
            device.CreatedAt);
    }
}
