using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Porthole.Server.Web.Pages;

/// <summary>Says which permission was missing.</summary>
[AllowAnonymous]
public sealed class AccessDeniedModel : PageModel
{
    public string? Permission { get; private set; }

    public void OnGet(string? permission) => Permission = permission;
}
