using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Porthole.Server.Agents;
using Porthole.Server.Data;
using Porthole.Server.Devices;
using Porthole.Server.Identity;

namespace Porthole.Server.Web.Pages;

/// <summary>The signed-in landing page.</summary>
public sealed class IndexModel(PortholeDbContext db, IDevicePresence presence) : PageModel
{
    public string Username { get; private set; } = "";

    public IReadOnlyList<string> Permissions { get; private set; } = [];

    public bool CanReadDevices { get; private set; }

    public int Total { get; private set; }

    public int Online { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var access = HttpContext.GetUserAccess();
        Username = access.Username;
        Permissions = [.. access.Permissions.Order(StringComparer.Ordinal)];
        CanReadDevices = access.Has(Identity.Permissions.DevicesRead);
        if (CanReadDevices)
        {
            var visible = (await db.Devices.AsNoTracking().WithDetails().ToListAsync(cancellationToken)).Where(d => access.Can(Identity.Permissions.DevicesRead, d)).ToList();
            Total = visible.Count;
            Online = visible.Count(d => presence.Find(d.Id) is not null);
        }
    }
}
