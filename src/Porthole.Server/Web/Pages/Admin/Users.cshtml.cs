using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Porthole.Server.Data;
using Porthole.Server.Identity;

namespace Porthole.Server.Web.Pages.Admin;

/// <summary>User accounts and their grants; the table and every change go through <c>/api/v1/users</c>.</summary>
public sealed class UsersModel(PortholeDbContext db) : PageModel
{
    /// <summary>Role names for the Add user and Add grant dialogs, built-ins first.</summary>
    public IReadOnlyList<string> Roles { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        if (!HttpContext.GetUserAccess().Has(Permissions.UsersManage))
        {
            return ConsoleRedirects.AccessDenied(Permissions.UsersManage);
        }

        Roles = await db.Roles.AsNoTracking().OrderByDescending(r => r.BuiltIn).ThenBy(r => r.Name).Select(r => r.Name).ToListAsync(cancellationToken);
        return Page();
    }
}
