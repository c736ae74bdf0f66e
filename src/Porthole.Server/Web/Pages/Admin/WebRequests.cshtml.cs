using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Porthole.Server.Data;
using Porthole.Server.Identity;
using Porthole.Server.WebProxy;

namespace Porthole.Server.Web.Pages.Admin;

/// <summary>The request log of one web session, reached from its audit records. Needs <c>audit:read</c>.</summary>
public sealed class WebRequestsModel(PortholeDbContext db) : PageModel
{
    private const string Prefix = "web session ";

    public string SessionId { get; private set; } = "";

    public IReadOnlyList<WebRequestRecord> Requests { get; private set; } = [];

    /// <summary>The web session an audit record is about (its detail starts "web session &lt;id&gt;"), or <c>null</c>.</summary>
    public static string? WebSessionOf(AuditEntry entry)
    {
        if (entry.Action is not ("session.open" or "session.close") || entry.Detail?.StartsWith(Prefix, StringComparison.Ordinal) != true)
        {
            return null;
        }

        var id = entry.Detail.Substring(Prefix.Length, Math.Min(WebSessionId.Length, entry.Detail.Length - Prefix.Length));
        return WebSessionId.IsWellFormed(id) ? id : null;
    }

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken cancellationToken)
    {
        if (!HttpContext.GetUserAccess().Has(Permissions.AuditRead))
        {
            return ConsoleRedirects.AccessDenied(Permissions.AuditRead);
        }

        SessionId = id;
        Requests = await db.WebRequests.AsNoTracking().Where(r => r.SessionId == id).OrderBy(r => r.Id).Take(5000).ToListAsync(cancellationToken);
        return Page();
    }
}
