using Microsoft.EntityFrameworkCore;
using Porthole.Protocol.Api;
using Porthole.Server.Agents;
using Porthole.Server.Data;

namespace Porthole.Server.Devices;

/// <summary>Finding devices by id or name, and shaping them for the API.</summary>
public static class DeviceQueries
{
    /// <summary>Finds a device by id, else by name (route segments accept either).</summary>
    public static async Task<Device?> FindByIdOrNameAsync(this IQueryable<Device> devices, string idOrName, CancellationToken cancellationToken) =>
        await devices.SingleOrDefaultAsync(d => d.Id == idOrName, cancellationToken)
        ?? await devices.SingleOrDefaultAsync(d => d.Name == idOrName, cancellationToken);

    public static IQueryable<Device> WithDetails(this IQueryable<Device> devices) =>
        devices.Include(d => d.Group).Include(d => d.Tags);

    public static DeviceDto ToDto(this Device device, IDevicePresence presence, TimeProvider time)
    {
        var channel = presence.Find(device.Id);
        var agentEnabled = channel?.RemoteAccessEnabled ?? device.AgentRemoteAccessEnabled;
        var (enabled, source) = (device.RemoteAccessEnabled, agentEnabled) switch
        {
            (false, _) => (false, "device"),
            (true, false) => (false, "agent"),
            _ => (true, "default"),
        };

        return new DeviceDto(
            device.Id,
            device.Name,
            device.Group?.Name,
            [.. device.Tags.Select(t => t.Tag).Order(StringComparer.Ordinal)],
            Online: channel is not null,
            LastSeenAt: channel is not null ? time.GetUtcNow() : device.LastSeenAt,
            AgentVersion: channel?.AgentVersion ?? device.AgentVersion,
            Enrolled: device.CredentialHash is not null,
            RemoteAccessEnabled: enabled,
            RemoteAccessSource: source,
            device.CreatedAt);
    }
}
