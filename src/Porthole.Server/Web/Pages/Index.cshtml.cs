using Microsoft.AspNetCore.Mvc.RazorPages;
using Porthole.Server.Identity;

namespace Porthole.Server.Web.Pages;

/// <summary>The signed-in landing page.</summary>
public sealed class IndexModel : PageModel
{
    public string Username { get; private set; } = "";

    public IReadOnlyList<string> Permissions { get; private set; } = [];

    public void OnGet()
    {
        var access = HttpContext.GetUserAccess();
        Username = access.Username;
        Permissions = [.. access.Permissions.Order(StringComparer.Ordinal)];
    }
}
