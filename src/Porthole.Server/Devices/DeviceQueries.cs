using Microsoft.EntityFrameworkCore;
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
}
