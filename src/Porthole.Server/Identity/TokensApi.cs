using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Porthole.Protocol.Api;
using Porthole.Protocol.Security;
using Porthole.Server.Audit;
using Porthole.Server.Data;
using Porthole.Server.Http;

namespace Porthole.Server.Identity;

/// <summary><c>/api/v1/tokens</c>: a user's own API tokens for automation — named, scoped, expiring, revocable.</summary>
public static class TokensApi
{
    /// <summary>The longest lifetime a token may be given.</summary>
    public const int MaxLifetimeDays = 366;

    public static void MapTokensApi(this IEndpointRouteBuilder api)
    {
        var tokens = api.MapGroup("/tokens").WithTags("Tokens").RequireAuthorization(Permissions.Authenticated);
        tokens.MapGet("/", ListAsync);
        tokens.MapPost("/", CreateAsync);
        tokens.MapDelete("/{token}", RevokeAsync);
    }

    private static async Task<Ok<List<TokenDto>>> ListAsync(HttpContext context, PortholeDbContext db, CancellationToken cancellationToken)
    {
        var userId = context.User.GetUserId();
        var tokens = await db.ApiTokens.AsNoTracking().Where(t => t.UserId == userId).ToListAsync(cancellationToken);
        var current = context.User.GetTokenId();
        return TypedResults.Ok(tokens.OrderByDescending(t => t.CreatedAt).Select(t => ToDto(t, current)).ToList());
    }

    private static async Task<Results<Created<CreateTokenResponse>, ProblemHttpResult>> CreateAsync(
        CreateTokenRequest request, HttpContext context, PortholeDbContext db, AuditLog audit, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!Names.IsValid(request.Name))
        {
            return ApiProblem.Validation(Names.Rule("a token name"));
        }

        var access = context.GetUserAccess();
        var scopes = request.Scopes?.Distinct(StringComparer.Ordinal).ToList();
        if (scopes is not null && scopes.FirstOrDefault(s => !access.Has(s)) is { } beyond)
        {
            return ApiProblem.Validation($"scope '{beyond}' is not a permission you hold; a token can only narrow your rights");
        }

        if (request.ExpiresInDays is < 1 or > MaxLifetimeDays)
        {
            return ApiProblem.Validation($"expiresInDays must be between 1 and {MaxLifetimeDays}");
        }

        var now = time.GetUtcNow();
        var secret = SecretTokens.Create(SecretTokens.ApiTokenPrefix);
        var token = new ApiToken
        {
            Id = Guid.CreateVersion7().ToString("N"),
            UserId = access.UserId,
            Name = request.Name,
            SecretHash = SecretTokens.Hash(secret),
            CreatedAt = now,
            ExpiresAt = now.AddDays(request.ExpiresInDays ?? 90),
            Scopes = scopes,
        };
        db.ApiTokens.Add(token);
        audit.Add(context.User.GetActor(), "token.create", "token:" + token.Id,
            detail: $"name {token.Name}, scopes {(scopes is null ? "all" : string.Join(" ", scopes))}, expires {token.ExpiresAt:u}", clientAddress: context.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/v1/tokens/{token.Id}", new CreateTokenResponse(secret, ToDto(token, null)));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(string token, HttpContext context, PortholeDbContext db, AuditLog audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var userId = context.User.GetUserId();
        var matches = await db.ApiTokens.Where(t => t.UserId == userId && (t.Id == token || t.Name == token) && t.RevokedAt == null).ToListAsync(cancellationToken);
        var found = matches.FirstOrDefault(t => t.Id == token) ?? (matches.Count == 1 ? matches[0] : null);
        if (found is null && matches.Count > 1)
        {
            return ApiProblem.Conflict(ProblemCodes.Conflict, $"{matches.Count} active tokens are named '{token}'; revoke one by id: {string.Join(", ", matches.Select(t => t.Id))}");
        }

        if (found is null)
        {
            return ApiProblem.NotFound(ProblemCodes.Validation, $"you have no active token '{token}'");
        }

        found.RevokedAt = time.GetUtcNow();
        audit.Add(context.User.GetActor(), "token.revoke", "token:" + found.Id, detail: "name " + found.Name, clientAddress: context.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static TokenDto ToDto(ApiToken token, string? current) =>
        new(token.Id, token.Name, token.Scopes, token.CreatedAt, token.ExpiresAt, token.RevokedAt, token.Id == current);
}
