using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Porthole.Server.Http;
using Porthole.Server.Identity;

namespace Porthole.Server.Web.Pages;

/// <summary>Changing a password with the current one; how a user with a generated password gets in.</summary>
[AllowAnonymous]
public sealed class ChangePasswordModel(PasswordSignIn signIn) : PageModel
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

        if (await signIn.ChangePasswordAsync(user, currentPassword!, newPassword, HttpContext.ClientAddress(), cancellationToken) is { } refusal)
        {
            Message = refusal;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        Succeeded = true;
        Message = "Password changed. You can log in now.";
        return Page();
    }
}
