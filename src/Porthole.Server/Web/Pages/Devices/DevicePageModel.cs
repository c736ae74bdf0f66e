using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Porthole.Protocol.Api;
using Porthole.Server.Data;
using Porthole.Server.Devices;
using Porthole.Server.Identity;

namespace Porthole.Server.Web.Pages.Devices;

/// <summary>
/// What the device page's tabs share: the device as the API shows it and what the user may do with it. A device the
/// user cannot read does not exist for them (404), as in the API.
/// </summary>
public abstract class DevicePageModel(PortholeDbContext db, DeviceCatalog catalog, TimeProvider time) : PageModel
{
    public DeviceDto Device { get; private set; } = null!;

    public DateTimeOffset Now { get; private set; }

    public bool CanConfigure { get; private set; }

    public bool CanConnect { get; private set; }

    public bool CanReadRemoteAccess { get; private set; }

    /// <summary>The device entity, with its endpoints.</summary>
    protected Device? Entity { get; private set; }

    protected UserAccess Access => HttpContext.GetUserAccess();

    /// <summary>Loads the device named in the route, or returns the result to show instead.</summary>
    protected async Task<IActionResult?> LoadAsync(string device, CancellationToken cancellationToken)
    {
        Entity = await db.Devices.AsNoTracking().WithDetails().Include(d => d.Endpoints).FindByIdOrNameAsync(device, cancellationToken);
        if (Entity is null || !Access.Can(Permissions.DevicesRead, Entity))
        {
            return NotFound();
        }

        Now = time.GetUtcNow();
        Device = await catalog.ToDtoAsync(Entity, cancellationToken);
        CanReadRemoteAccess = Access.Can(Permissions.RemoteAccessRead, Entity);
        CanConfigure = Access.Can(Permissions.RemoteAccessConfigure, Entity);
        CanConnect = Access.Can(Permissions.RemoteAccessConnect, Entity);
        return null;
    }
}
