using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Porthole.Protocol.Api;
using Porthole.Server.Http;

namespace Porthole.Server.Identity;

/// <summary>
/// Browser sessions: an encrypted, <c>HttpOnly</c>, <c>Secure</c>, <c>SameSite=Strict</c> cookie that carries an
/// API token created at web login. Each request re-validates that token, so logout, disabling the user or a
/// password change end the browser session at once.
/// </summary>
public static class WebSessions
{
    public const string SchemeName = CookieAuthenticationDefaults.AuthenticationScheme;

    /// <summary>The scheme every route authenticates with: bearer tokens when given, else the session cookie.</summary>
    public const string PolicySchemeName = "Porthole";

    public const string CookieName = "porthole_session";

    /// <summary>Lifetime of a web session's token.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);

    private const string TokenClaim = "porthole:web-token";

    public static AuthenticationBuilder AddWebSessions(this AuthenticationBuilder authentication) => authentication
        .AddPolicyScheme(PolicySchemeName, "Bearer token or session cookie", options =>
            options.ForwardDefaultSelector = context =>
                context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? BearerTokenHandler.SchemeName : SchemeName)
        .AddCookie(SchemeName, options =>
        {
            options.Cookie.Name = CookieName;
            options.Cookie.HttpOnly = true;
            options.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.ExpireTimeSpan = Lifetime;
            options.SlidingExpiration = false;
            options.LoginPath = "/login";
            options.LogoutPath = "/logout";
            options.AccessDeniedPath = "/access-denied";
            options.Events.OnValidatePrincipal = ValidateAsync;
            options.Events.OnRedirectToLogin = context => ApiOrRedirect(context, StatusCodes.Status401Unauthorized, ProblemCodes.Unauthorized, "Not authenticated", "your session has ended; log in again");
            options.Events.OnRedirectToAccessDenied = context => ApiOrRedirect(context, StatusCodes.Status403Forbidden, ProblemCodes.Forbidden, "Access denied", "you may not do this");
        });

    /// <summary>The principal stored in a new session cookie.</summary>
    public static ClaimsPrincipal CreatePrincipal(string userId, string username, string tokenSecret) =>
        new(new ClaimsIdentity(
            [new(PortholeClaims.UserId, userId), new(PortholeClaims.Username, username), new(TokenClaim, tokenSecret)],
            SchemeName));

    /// <summary>The API token behind the current browser session, for logout.</summary>
    public static string? TokenOf(ClaimsPrincipal principal) => principal.FindFirstValue(TokenClaim);

    private static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var secret = context.Principal?.FindFirstValue(TokenClaim);
        var validator = context.HttpContext.RequestServices.GetRequiredService<ApiTokenValidator>();
        var (identity, access, _) = secret is null ? (null, null, null) : await validator.ValidateAsync(secret, context.HttpContext.RequestAborted);
        if (identity is null)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(SchemeName);
            return;
        }

        // Rights as of the last committed write (ReadCache); the secret stays in the cookie's principal only, so this
        // identity is the request's own (the validator's is shared and never changed).
        context.ReplacePrincipal(new ClaimsPrincipal(new ClaimsIdentity([.. identity.Claims, new Claim(TokenClaim, secret!)], SchemeName)));
        context.HttpContext.Features.Set(access);
    }

    private static Task ApiOrRedirect(RedirectContext<CookieAuthenticationOptions> context, int status, string code, string title, string detail)
    {
        if (context.Request.Path.StartsWithSegments("/api"))
        {
            return ApiProblem.WriteAsync(context.HttpContext, status, code, title, detail);
        }

        context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }
}
