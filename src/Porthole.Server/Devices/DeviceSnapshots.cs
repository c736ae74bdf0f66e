using Microsoft.EntityFrameworkCore;
using Porthole.Server.Data;

namespace Porthole.Server.Devices;

/// <summary>
/// Devices as every session's opening reads them — with their endpoints and tags, untracked — through the
/// <see cref="ReadCache"/>: opening a session to a device whose rows no write has touched since the last opening
/// costs no query. Loading and tracking that graph was ≈0.9 ms of the server's work before it could ask the agent to
/// dial (docs/performance.md). A snapshot is shared: callers read it and never change it.
/// </summary>
public sealed class DeviceSnapshots(IDbContextFactory<PortholeDbContext> contexts, ReadCache cache)
{
    /// <summary>The device whose id, else name, is <paramref name="idOrName"/>, or <c>null</c> when there is none.</summary>
    public Task<Device?> FindAsync(string idOrName, CancellationToken cancellationToken) =>
        cache.GetOrReadAsync("device-graph:" + idOrName, async () =>
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            return await db.Devices.AsNoTracking().Include(d => d.Endpoints).Include(d => d.Tags).FindByIdOrNameAsync(idOrName, cancellationToken);
        });
}
