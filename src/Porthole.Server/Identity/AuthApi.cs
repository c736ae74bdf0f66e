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

/// <summary><c>/api/v1/auth</c>: exchange a password for an API token, inspect and revoke it.</summary>
public static class AuthApi
{
    public static void MapAuthApi(this IEndpointRouteBuilder api)
    {
        var auth = api.MapGroup("/auth").WithTags("Authentication");
        auth.MapPost("/login", LoginAsync).AllowAnonymous();
        auth.MapPost("/logout", LogoutAsync).RequireAuthorization(Permissions.Authenticated);
        auth.MapGet("/me", (HttpContext context) => TypedResults.Ok(new WhoAmIResponse(context.User.GetUsername(), context.User.GetTokenId() ?? "")))
            .RequireAuthorization(Permissions.Authenticated);
    }

    private static async Task<Results<Ok<LoginResponse>, ProblemHttpResult>> LoginAsync(
        LoginRequest request, PortholeDbContext db, PasswordHashing hashing, AuditLog audit, TimeProvider time, IOptions<PortholeServerOptions> options, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.Username) || string.IsNullOrEmpty(request.Password))
        {
            return ApiProblem.Validation("username and password are required");
        }

        var user = await db.Users.SingleOrDefaultAsync(u => u.Username == request.Username, cancellationToken);
        if (user is null || user.Disabled || !hashing.Verify(user, request.Password, out var rehash))
        {
            // One message for every failure, so the answer does not reveal which usernames exist.
            await audit.WriteAsync("user:" + request.Username, "auth.login", null, AuditOutcomes.Failure, "bad username or password", cancellationToken);
            return ApiProblem.Create(StatusCodes.Status401Unauthorized, ProblemCodes.Unauthorized, "Login failed", "wrong username or password");
        }

        if (rehash)
        {
            user.PasswordHash = hashing.Hash(user, request.Password);
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
        db.ApiTokens.Add(token);
        audit.Add("user:" + user.Username, "auth.login", "token:" + token.Id, detail: "token name: " + token.Name);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(new LoginResponse(secret, token.Id, user.Username, token.ExpiresAt));
    }

    private static async Task<NoContent> LogoutAsync(HttpContext context, PortholeDbContext db, AuditLog audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var tokenId = context.User.GetTokenId();
        var token = await db.ApiTokens.SingleOrDefaultAsync(t => t.Id == tokenId, cancellationToken);
        if (token is not null && token.RevokedAt is null)
        {
            token.RevokedAt = time.GetUtcNow();
            audit.Add(context.User.GetActor(), "auth.token-revoked", "token:" + token.Id);
            await db.SaveChangesAsync(cancellationToken);
        }

        return TypedResults.NoContent();
    }
}
