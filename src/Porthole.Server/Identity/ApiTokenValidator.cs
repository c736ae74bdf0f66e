using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Porthole.Protocol.Security;
using Porthole.Server.Data;
using Porthole.Server.Devices;

namespace Porthole.Server.Identity;

/// <summary>
/// Turns a user's API token secret into the request's identity and rights. Bearer requests and web sessions both
/// use it: a web session's cookie carries a token too, so logout, disabling a user or a password change end
/// browser sessions exactly as they end CLI tokens.
/// </summary>
/// <remarks>
/// A singleton with a context of its own per call: it runs in every request, the long-lived WebSocket ones included
/// (a session's stream lasts as long as the session), and a request-scoped context would stay reachable from the
/// request for all that time (issue 7, idle memory). What a look-up finds is kept in the <see cref="ReadCache"/>
/// until the next committed write; expiry is checked on every use.
/// </remarks>
public sealed class ApiTokenValidator(IDbContextFactory<PortholeDbContext> contexts, ReadCache cache, TimeProvider time)
{
    /// <summary>
    /// The identity of a valid token, or why it is not valid. The identity is the cached one, shared by every request
    /// the token makes until the next committed write, so it must never be changed: a caller that needs more claims
    /// builds an identity of its own from <see cref="ClaimsIdentity.Claims"/>.
    /// </summary>
    /// <remarks>
    /// Shared because a <see cref="ClaimsIdentity"/> copies each claim it is given, and a request's principal lives as
    /// long as the request: for a session's WebSocket that was ≈0.7 KB of claims per request, two requests per session.
    /// </remarks>
    public async Task<(ClaimsIdentity? Identity, UserAccess? Access, string? Failure)> ValidateAsync(string secret, CancellationToken cancellationToken)
    {
        var hash = SecretTokens.Hash(secret);
        var key = "token:" + hash;
        if (!cache.TryGet<ValidToken>(key, out var valid))
        {
            var generation = cache.Generation;
            var (found, failure) = await LookUpAsync(hash, cancellationToken);
            if (found is null)
            {
                return (null, null, failure);
            }

            cache.Add(key, found, generation);
            valid = found;
        }

        if (valid.ExpiresAt is { } expires && expires <= time.GetUtcNow())
        {
            return (null, null, "the API token has expired; log in again");
        }

        return (valid.Identity, valid.Access, null);
    }

    private async Task<(ValidToken? Token, string? Failure)> LookUpAsync(string hash, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);

        // One query, not split: the only collection is the user's grants (a handful of rows), so joining them costs
        // less than a second round trip on every authenticated request, session streams included.
        var token = await db.ApiTokens.AsNoTracking()
            .Include(t => t.User).ThenInclude(u => u!.Grants).ThenInclude(g => g.Role)
            .AsSingleQuery()
            .SingleOrDefaultAsync(t => t.SecretHash == hash, cancellationToken);
        if (token?.User is null)
        {
            return (null, "the API token is not valid");
        }

        if (token.RevokedAt is not null)
        {
            return (null, "the API token has been revoked; log in again");
        }

        if (token.User.Disabled)
        {
            return (null, "the user account is disabled");
        }

        var groups = await GroupTree.LoadAsync(db, cancellationToken);
        var access = new UserAccess(
            token.User.Id,
            token.User.Username,
            [.. token.User.Grants.Select(GrantScope.From)],
            token.Scopes?.ToHashSet(StringComparer.Ordinal),
            groups);

        List<Claim> claims =
        [
            new(PortholeClaims.UserId, token.User.Id),
            new(PortholeClaims.Username, token.User.Username),
            new(PortholeClaims.TokenId, token.Id),
        ];
        claims.AddRange(access.Permissions.Select(p => new Claim(Permissions.ClaimType, p)));
        return (new ValidToken(new ClaimsIdentity(claims, BearerTokenHandler.SchemeName), access, token.ExpiresAt), null);
    }

    /// <summary>What a valid token stands for; shared between requests, so never changed once built.</summary>
    private sealed record ValidToken(ClaimsIdentity Identity, UserAccess Access, DateTimeOffset? ExpiresAt);
}
