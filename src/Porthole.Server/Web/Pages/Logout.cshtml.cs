using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Porthole.Protocol.Security;
using Porthole.Server.Audit;
using Porthole.Server.Data;
using Porthole.Server.Http;
using Porthole.Server.Identity;

namespace Porthole.Server.Web.Pages;

/// <summary>Ends the browser session: revokes its token and drops the cookie. POST only (a link cannot log you out).</summary>
public sealed class LogoutModel(PortholeDbContext db, AuditLog audit, TimeProvider time) : PageModel
{
    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (WebSessions.TokenOf(User) is { } secret)
        {
            var hash = SecretTokens.Hash(secret);
            var token = await db.ApiTokens.SingleOrDefaultAsync(t => t.SecretHash == hash && t.RevokedAt == null, cancellationToken);
            if (token is not null)
            {
                token.RevokedAt = time.GetUtcNow();
                audit.Add(User.GetActor(), "auth.web-logout", "token:" + token.Id, clientAddress: HttpContext.ClientAddress());
                await db.SaveChangesAsync(cancellationToken);
            }
        }

        await HttpContext.SignOutAsync(WebSessions.SchemeName);
        return Redirect("/login");
    }
}
