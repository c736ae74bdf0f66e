using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Porthole.Server.Identity;

namespace Porthole.Server.Web.Pages.Admin;

/// <summary>
/// The device group tree, through <c>/api/v1/groups</c>. Seeing it needs <c>devices:read</c>; adding and removing
/// groups needs <c>devices:manage</c>, which the server checks per group.
/// </summary>
public sealed class GroupsModel : PageModel
{
    public bool CanManage { get; private set; }

    public IActionResult OnGet()
    {
        var access = HttpContext.GetUserAccess();
        if (!access.Has(Permissions.DevicesRead))
        {
            return ConsoleRedirects.AccessDenied(Permissions.DevicesRead);
        }

        CanManage = access.Has(Permissions.DevicesManage);
        return Page();
    }
}
