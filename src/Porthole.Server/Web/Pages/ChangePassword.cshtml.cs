using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Porthole.Server.Audit;
using Porthole.Server.Data;
using Porthole.Server.Http;
using Porthole.Server.Identity;

namespace Porthole.Server.Web.Pages;

/// <summary>Changing a password with the current one; how a user with a generated password gets in.</summary>
[AllowAnonymous]
public sealed class ChangePasswordModel(PasswordSignIn signIn, PasswordHashing hashing, PortholeDbContext db, AuditLog audit, TimeProvider time) : PageModel
{
    public string? Message { get; private set; }

    public bool Succeeded { get; private set; }

    public string? Username { get; private set; }

    public void OnGet(string? username) => Username = username;

    public async Task<IActionResult> OnPostAsync(string? username, string? currentPassword, string? newPassword, CancellationToken cancellationToken)
    {
        Username = username;
        var (user, problem) = await signIn.VerifyAsync(username, currentPassword, HttpContext.ClientAddress(), "auth.password-change", cancellationToken);
        if (user is null)
        {
            Message = problem!.ProblemDetails.Detail;
            Response.StatusCode = problem.StatusCode;
            return Page();
        }

        var refusal = PasswordPolicy.Check(user.Username, newPassword) ?? (newPassword == currentPassword ? "the new password must differ from the current one" : null);
        if (refusal is not null)
        {
            await audit.WriteAsync("user:" + user.Username, "auth.password-change", "user:" + user.Username, AuditOutcomes.Failure, refusal, HttpContext.ClientAddress(), cancellationToken);
            Message = refusal;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        user.PasswordHash = hashing.Hash(user, newPassword!);
        user.MustChangePassword = false;
        var now = time.GetUtcNow();
        await db.ApiTokens.Where(t => t.UserId == user.Id && t.RevokedAt == null).ExecuteUpdateAsync(t => t.SetProperty(x => x.RevokedAt, now), cancellationToken);
        audit.Add("user:" + user.Username, "auth.password-change", "user:" + user.Username, detail: "all existing tokens revoked", clientAddress: HttpContext.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);
        Succeeded = true;
        Message = "Password changed. You can log in now.";
        return Page();
    }
}
