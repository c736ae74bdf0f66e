using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Porthole.Server.Identity;

namespace Porthole.Server.Web.Pages.Admin;

/// <summary>Built-in roles (read-only) and custom roles, through <c>/api/v1/roles</c>. Needs <c>users:manage</c>.</summary>
public sealed class RolesModel : PageModel
{
    public IActionResult OnGet() =>
        HttpContext.GetUserAccess().Has(Permissions.UsersManage) ? Page() : ConsoleRedirects.AccessDenied(Permissions.UsersManage);
}
