using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Porthole.Server.Web.Pages;

/// <summary>Says which permission was missing, and on what.</summary>
[AllowAnonymous]
public sealed class AccessDeniedModel : PageModel
{
    public string? Permission { get; private set; }

    public string? Resource { get; private set; }

    public void OnGet(string? permission, string? resource)
    {
        Permission = permission;
        Resource = resource;
        Response.StatusCode = StatusCodes.Status403Forbidden;
    }
}
