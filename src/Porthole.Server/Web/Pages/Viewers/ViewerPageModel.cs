using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Porthole.Server.Data;
using Porthole.Server.Devices;
using Porthole.Server.Identity;

namespace Porthole.Server.Web.Pages.Viewers;

/// <summary>
/// A viewer tab for one endpoint. The page carries no secret: its script opens the session through the API (with the
/// antiforgery header) and joins the stream with the returned single-use key as a WebSocket sub-protocol entry.
/// </summary>
public abstract class ViewerPageModel(PortholeDbContext db, ViewerKind viewer) : PageModel
{
    public string DeviceName { get; private set; } = "";

    public string EndpointName { get; private set; } = "";

    public string Label { get; private set; } = "";

    public string Address { get; private set; } = "";

    public string Protocol { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync(string device, string endpoint, CancellationToken cancellationToken)
    {
        var access = HttpContext.GetUserAccess();
        var owner = await db.Devices.AsNoTracking().WithDetails().Include(d => d.Endpoints).FindByIdOrNameAsync(device, cancellationToken);
        if (owner is null || !access.Can(Permissions.DevicesRead, owner))
        {
            return NotFound();
        }

        if (!access.Can(Permissions.RemoteAccessConnect, owner, viewer.Action))
        {
            return ConsoleRedirects.AccessDenied(Permissions.RemoteAccessConnect, $"{viewer.Action} on device {owner.Name}");
        }

        var found = owner.Endpoints.FirstOrDefault(e => e.Name == endpoint) ?? owner.Endpoints.FirstOrDefault(e => e.Id == endpoint);
        if (found is null || ViewerKinds.ViewerOf(found.Protocol) != viewer)
        {
            return NotFound();
        }

        DeviceName = owner.Name;
        EndpointName = found.Name;
        Label = found.Description ?? found.Name;
        Address = $"{found.Host}:{found.Port}";
        Protocol = found.Protocol;
        return Page();
    }
}
