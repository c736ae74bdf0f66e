using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Porthole.Server.Identity;

namespace Porthole.Server.Web.Pages.Admin;

/// <summary>
/// Remote-access rules, committed and staged, through <c>/api/v1/remote-access</c>. Seeing them needs
/// <c>remote-access:read</c>; the stage form and Commit/Discard show only with <c>remote-access:configure</c>.
/// </summary>
public sealed class RemoteAccessModel : PageModel
{
    public bool CanConfigure { get; private set; }

    public IActionResult OnGet()
    {
        var access = HttpContext.GetUserAccess();
        if (!access.Has(Permissions.RemoteAccessRead))
        {
            return ConsoleRedirects.AccessDenied(Permissions.RemoteAccessRead);
        }

        CanConfigure = access.Has(Permissions.RemoteAccessConfigure);
        return Page();
    }
}
