using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Porthole.Protocol.Api;
using Porthole.Protocol.Security;
using Porthole.Server.Audit;
using Porthole.Server.Data;
using Porthole.Server.Hosting;
using Porthole.Server.Http;

namespace Porthole.Server.Identity;

/// <summary><c>/api/v1/auth</c>: exchange a password for an API token, change a password, inspect and revoke the token.</summary>
public static class AuthApi
{
    /// <summary>The rate-limiting policy that bounds password attempts per client address.</summary>
    public const string LoginRateLimitPolicy = "login";

    public static void MapAuthApi(this IEndpointRouteBuilder api)
    {
        var auth = api.MapGroup("/auth").WithTags("Authentication");
        auth.MapPost("/login", LoginAsync).AllowAnonymous().RequireRateLimiting(LoginRateLimitPolicy);
        auth.MapPost("/password", ChangePasswordAsync).AllowAnonymous().RequireRateLimiting(LoginRateLimitPolicy);
        auth.MapPost("/logout", LogoutAsync).RequireAuthorization(Permissions.Authenticated);
        auth.MapGet("/me", (HttpContext context) =>
        {
            var access = context.GetUserAccess();
            return TypedResults.Ok(new WhoAmIResponse(access.Username, context.User.GetTokenId() ?? "", [.. access.Permissions.Order(StringComparer.Ordinal)]));
        }).RequireAuthorization(Permissions.Authenticated);
    }

    private static async Task<Results<Ok<LoginResponse>, ProblemHttpResult>> LoginAsync(
        LoginRequest request, HttpContext context, PortholeDbContext db, PasswordHashing hashing, LoginThrottle throttle, AuditLog audit, TimeProvider time,
        IOptions<PortholeServerOptions> options, CancellationToken cancellationToken)
    {
        var (user, problem) = await VerifyAsync(request.Username, request.Password, context, db, hashing, throttle, audit, "auth.login", cancellationToken);
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

        var now = time.GetUtcNow();
        var secret = SecretTokens.Create(SecretTokens.ApiTokenPrefix);
        var token = new ApiToken
        {
            Id = Guid.CreateVersion7().ToString("N"),
            UserId = user.Id,
            Name = string.IsNullOrWhiteSpace(request.TokenName) ? "cli" : request.TokenName.Trim(),
            SecretHash = SecretTokens.Hash(secret),
            CreatedAt = now,
            ExpiresAt = options.Value.LoginTokenLifetime is { } lifetime ? now + lifetime : null,
        };
        if (!Names.IsValid(token.Name))
        {
            return ApiProblem.Validation(Names.Rule("a token name"));
        }

        db.ApiTokens.Add(token);
        audit.Add("user:" + user.Username, "auth.login", "token:" + token.Id, detail: "token name: " + token.Name, clientAddress: context.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(new LoginResponse(secret, token.Id, user.Username, token.ExpiresAt));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> ChangePasswordAsync(
        ChangePasswordRequest request, HttpContext context, PortholeDbContext db, PasswordHashing hashing, LoginThrottle throttle, AuditLog audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var (user, problem) = await VerifyAsync(request.Username, request.CurrentPassword, context, db, hashing, throttle, audit, "auth.password-change", cancellationToken);
        if (user is null)
        {
            return problem!;
        }

        var refusal = PasswordPolicy.Check(user.Username, request.NewPassword)
            ?? (request.NewPassword == request.CurrentPassword ? "the new password must differ from the current one" : null);
        if (refusal is not null)
        {
            await audit.WriteAsync("user:" + user.Username, "auth.password-change", "user:" + user.Username, AuditOutcomes.Failure, refusal, context.ClientAddress(), cancellationToken);
            return ApiProblem.Validation(refusal);
        }

        user.PasswordHash = hashing.Hash(user, request.NewPassword);
        user.MustChangePassword = false;

        // Whoever knew the old password may hold tokens made with it: a new password ends them all.
        var now = time.GetUtcNow();
        await db.ApiTokens.Where(t => t.UserId == user.Id && t.RevokedAt == null).ExecuteUpdateAsync(t => t.SetProperty(x => x.RevokedAt, now), cancellationToken);
        audit.Add("user:" + user.Username, "auth.password-change", "user:" + user.Username, detail: "all existing tokens revoked", clientAddress: context.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>Checks a username and password with lock-out, slow-down and auditing of every failure.</summary>
    private static async Task<(User? User, ProblemHttpResult? Problem)> VerifyAsync(
        string? username, string? password, HttpContext context, PortholeDbContext db, PasswordHashing hashing, LoginThrottle throttle, AuditLog audit, string action, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(username) || string.IsNullOrEmpty(password) || username.Length > 128 || password.Length > 1024)
        {
            return (null, ApiProblem.Validation("username and password are required"));
        }

        if (throttle.IsLockedOut(username))
        {
            await audit.WriteAsync("user:" + username, action, null, AuditOutcomes.Denied, "locked out after repeated failures", context.ClientAddress(), cancellationToken);
            context.Response.Headers.RetryAfter = ((int)LoginThrottle.ForgivePeriod.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return (null, ApiProblem.Create(StatusCodes.Status429TooManyRequests, ProblemCodes.LockedOut, "Locked out",
                "too many failed logins for this user; try again in a few minutes"));
        }

        var user = await db.Users.SingleOrDefaultAsync(u => u.Username == username, cancellationToken);
        if (user is null || user.Disabled || !hashing.Verify(user, password, out var rehash))
        {
            var delay = throttle.RecordFailure(username);
            await audit.WriteAsync("user:" + username, action, null, AuditOutcomes.Failure, user?.Disabled == true ? "account disabled" : "bad username or password", context.ClientAddress(), cancellationToken);
            await Task.Delay(delay, cancellationToken);

            // One message for every failure, so the answer does not reveal which usernames exist.
            return (null, ApiProblem.Create(StatusCodes.Status401Unauthorized, ProblemCodes.Unauthorized, "Login failed", "wrong username or password"));
        }

        if (rehash)
        {
            user.PasswordHash = hashing.Hash(user, password);
        }

        return (user, null);
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
