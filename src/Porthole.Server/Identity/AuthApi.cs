using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Porthole.Protocol.Api;
using Porthole.Server.Audit;
using Porthole.Server.Data;
using Porthole.Server.Hosting;
using Porthole.Server.Http;

namespace Porthole.Server.Identity;

/// <summary><c>/api/v1/auth</c>: exchange a password for an API token, change a password, inspect and revoke the token.</summary>
public static class AuthApi
{
    public static void MapAuthApi(this IEndpointRouteBuilder api)
    {
        var auth = api.MapGroup("/auth").WithTags("Authentication");
        auth.MapPost("/login", LoginAsync).AllowAnonymous().AddEndpointFilter(LimitPerClientAsync);
        auth.MapPost("/password", ChangePasswordAsync).AllowAnonymous().AddEndpointFilter(LimitPerClientAsync);
        auth.MapPost("/logout", LogoutAsync).RequireAuthorization(Permissions.Authenticated);
        auth.MapGet("/me", (HttpContext context) =>
        {
            var access = context.GetUserAccess();
            return TypedResults.Ok(new WhoAmIResponse(access.Username, context.User.GetTokenId() ?? "", [.. access.Permissions.Order(StringComparer.Ordinal)]));
        }).RequireAuthorization(Permissions.Authenticated);
    }

    /// <summary>Each request to a route that checks a password takes one of its client address's attempts; with none left, 429 before the password is looked at.</summary>
    private static async ValueTask<object?> LimitPerClientAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        if (!context.RequestServices.GetRequiredService<LoginThrottle>().TryStartAttempt(context.ClientAddress()))
        {
            return ApiProblem.Create(StatusCodes.Status429TooManyRequests, ProblemCodes.LockedOut, "Too many attempts",
                "too many password attempts from this address; wait a minute");
        }

        return await next(invocation);
    }

    private static async Task<Results<Ok<LoginResponse>, ProblemHttpResult>> LoginAsync(
        LoginRequest request, HttpContext context, PortholeDbContext db, PasswordSignIn signIn, AuditLog audit,
        IOptions<PortholeServerOptions> options, CancellationToken cancellationToken)
    {
        var (user, problem) = await signIn.VerifyAsync(request.Username, request.Password, context.ClientAddress(), "auth.login", cancellationToken);
        if (user is null)
        {
            return problem!;
        }

        if (user.MustChangePassword)
        {
            await audit.WriteAsync("user:" + user.Username, "auth.login", null, AuditOutcomes.Denied, "password change required", context.ClientAddress(), cancellationToken);
            return ApiProblem.Create(StatusCodes.Status403Forbidden, ProblemCodes.PasswordChangeRequired, "Password change required",
                "this password was generated and must be changed first: run 'porthole passwd --server URL --username NAME --password-stdin'");
        }

        var name = string.IsNullOrWhiteSpace(request.TokenName) ? "cli" : request.TokenName.Trim();
        if (!Names.IsValid(name))
        {
            return ApiProblem.Validation(Names.Rule("a token name"));
        }

        var secret = signIn.IssueToken(user, name, options.Value.LoginTokenLifetime, out var token);
        audit.Add("user:" + user.Username, "auth.login", "token:" + token.Id, detail: "token name: " + token.Name, clientAddress: context.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(new LoginResponse(secret, token.Id, user.Username, token.ExpiresAt));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> ChangePasswordAsync(
        ChangePasswordRequest request, HttpContext context, PasswordSignIn signIn, CancellationToken cancellationToken)
    {
        var (user, problem) = await signIn.VerifyAsync(request.Username, request.CurrentPassword, context.ClientAddress(), "auth.password-change", cancellationToken);
        if (user is null)
        {
            return problem!;
        }

        if (await signIn.ChangePasswordAsync(user, request.CurrentPassword, request.NewPassword, context.ClientAddress(), cancellationToken) is { } refusal)
        {
            return ApiProblem.Validation(refusal);
        }

        return TypedResults.NoContent();
    }

    private static async Task<NoContent> LogoutAsync(HttpContext context, PortholeDbContext db, AuditLog audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var tokenId = context.User.GetTokenId();
        var token = await db.ApiTokens.SingleOrDefaultAsync(t => t.Id == tokenId, cancellationToken);
        if (token is not null && token.RevokedAt is null)
        {
            token.RevokedAt = time.GetUtcNow();
            audit.Add(context.User.GetActor(), "token.revoke", "token:" + token.Id, detail: "logout", clientAddress: context.ClientAddress());
            await db.SaveChangesAsync(cancellationToken);
        }

        return TypedResults.NoContent();
    }
}
