using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Porthole.Server.Audit;
using Porthole.Server.Data;
using Porthole.Server.Http;
using Porthole.Server.Identity;

namespace Porthole.Server.Web.Pages;

/// <summary>The web login form. Same password checks, lock-out and auditing as the API login.</summary>
[AllowAnonymous]
public sealed class LoginModel(PasswordSignIn signIn, PortholeDbContext db, AuditLog audit) : PageModel
{
    public string? Error { get; private set; }

    public string? Username { get; private set; }

    public string ReturnUrl { get; private set; } = "/";

    public void OnGet(string? returnUrl) => ReturnUrl = SafeReturnUrl(returnUrl);

    public async Task<IActionResult> OnPostAsync(string? username, string? password, string? returnUrl, CancellationToken cancellationToken)
    {
        Username = username;
        ReturnUrl = SafeReturnUrl(returnUrl);
        var (user, problem) = await signIn.VerifyAsync(username, password, HttpContext.ClientAddress(), "auth.web-login", cancellationToken);
        if (user is null)
        {
            Error = problem!.ProblemDetails.Detail;
            Response.StatusCode = problem.StatusCode;
            return Page();
        }

        if (user.MustChangePassword)
        {
            Error = "This password was generated and must be changed first.";
            return RedirectToPage("/ChangePassword", new { username = user.Username });
        }

        var secret = signIn.IssueToken(user, "web", WebSessions.Lifetime, out var token);
        audit.Add("user:" + user.Username, "auth.web-login", "token:" + token.Id, clientAddress: HttpContext.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);
        await HttpContext.SignInAsync(WebSessions.SchemeName, WebSessions.CreatePrincipal(user.Id, user.Username, secret));
        return LocalRedirect(ReturnUrl);
    }

    /// <summary>Only local paths, so the login form cannot be used to bounce users to another site.</summary>
    private string SafeReturnUrl(string? returnUrl) => returnUrl is not null && Url.IsLocalUrl(returnUrl) ? returnUrl : "/";
}
