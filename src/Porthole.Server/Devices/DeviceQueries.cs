using Microsoft.EntityFrameworkCore;
using Porthole.Server.Data;

namespace Porthole.Server.Devices;

/// <summary>Finding devices by id or name, and shaping them for the API.</summary>
public static class DeviceQueries
{
    /// <summary>Finds a device by id, else by name (route segments accept either).</summary>
    /// <remarks>
    /// One round trip: ids and names are both unique, so at most two devices match (one whose id and another whose
    /// name is the value), and the id match wins as it always did. Routes mostly name devices, so the former
    /// id-then-name pair of queries cost two round trips on every session set-up (docs/performance.md).
    /// </remarks>
    public static async Task<Device?> FindByIdOrNameAsync(this IQueryable<Device> devices, string idOrName, CancellationToken cancellationToken)
    {
        var matches = await devices.Where(d => d.Id == idOrName || d.Name == idOrName).ToListAsync(cancellationToken);
        return matches.Find(d => d.Id == idOrName) ?? matches.Find(d => d.Name == idOrName);
    }

    public static IQueryable<Device> WithDetails(this IQueryable<Device> devices) =>
        devices.Include(d => d.Group).Include(d => d.Tags);
}
