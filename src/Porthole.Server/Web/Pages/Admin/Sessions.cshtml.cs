using Microsoft.AspNetCore.Mvc.RazorPages;
using Porthole.Server.Data;
using Porthole.Server.Relay;

namespace Porthole.Server.Web.Pages.Admin;

/// <summary>Open sessions — yours, and others' on devices where you hold <c>sessions:manage</c> — with Terminate.</summary>
public sealed class SessionsModel(ISessionBroker broker, PortholeDbContext db) : PageModel
{
    public IReadOnlyList<PendingSession> Sessions { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken) =>
        Sessions = [.. (await SessionsApi.VisibleAsync(HttpContext, broker, db, cancellationToken)).OrderBy(s => s.CreatedAt)];
}
