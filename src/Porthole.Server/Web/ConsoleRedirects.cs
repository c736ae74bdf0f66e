using Microsoft.AspNetCore.Mvc;

namespace Porthole.Server.Web;

/// <summary>Page results shared by the console's pages.</summary>
public static class ConsoleRedirects
{
    /// <summary>The Access denied page, naming the missing permission and what it was needed on.</summary>
    public static RedirectToPageResult AccessDenied(string permission, string? resource = null) =>
        new("/AccessDenied", new { permission, resource });
}
