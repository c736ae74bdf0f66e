using Microsoft.AspNetCore.Mvc.RazorPages;
using Porthole.Server.Relay;

namespace Porthole.Server.Web.Pages.Admin;

/// <summary>Open sessions — yours, and others' on devices where you hold <c>sessions:manage</c> — with Terminate.</summary>
public sealed class SessionsModel(OpenSessions sessions) : PageModel
{
    public IReadOnlyList<OpenSessionView> Sessions { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken) =>
        Sessions = await sessions.VisibleAsync(HttpContext, cancellationToken);
}
