using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Porthole.Protocol.Api;
using Porthole.Protocol.Security;
using Porthole.Server.Data;
using Porthole.Server.Http;

namespace Porthole.Server.Identity;

/// <summary>
/// Authenticates <c>Authorization: Bearer</c> secrets: API tokens of users (<c>pat_</c>) and credentials of
/// enrolled devices (<c>ptd_</c>). Both are looked up by their SHA-256; the secret itself is never stored. What a
/// look-up found is kept in the <see cref="ReadCache"/> until the next committed write.
/// </summary>
/// <remarks>
/// The handler lives as long as its request, and the session and agent WebSockets are requests that last for hours:
/// it takes a context from the factory for the look-up and lets it go, rather than holding the request's.
/// </remarks>
public sealed class BearerTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IDbContextFactory<PortholeDbContext> contexts,
    ApiTokenValidator validator,
    ReadCache cache)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Bearer";

    private const string FailureKey = "porthole:auth-failure";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        var secret = header["Bearer ".Length..].Trim();
        if (secret.StartsWith(SecretTokens.ApiTokenPrefix, StringComparison.Ordinal))
        {
            return await AuthenticateUserAsync(secret);
        }

        if (secret.StartsWith(SecretTokens.DeviceCredentialPrefix, StringComparison.Ordinal))
        {
            return await AuthenticateDeviceAsync(secret);
        }

        return Fail("the bearer token is not a Porthole token");
    }

    private async Task<AuthenticateResult> AuthenticateUserAsync(string secret)
    {
        var (identity, access, failure) = await validator.ValidateAsync(secret, Context.RequestAborted);
        if (identity is null)
        {
            return Fail(failure!);
        }

        Context.Features.Set(access);
        return Success(identity);
    }

    private async Task<AuthenticateResult> AuthenticateDeviceAsync(string secret)
    {
        var hash = SecretTokens.Hash(secret);
        var device = await cache.GetOrReadAsync("device:" + hash, () => LookUpDeviceAsync(hash));
        if (device is null)
        {
            return Fail("the device credential is not valid (the device was removed or its credential revoked)");
        }

        return Success(device.Identity);
    }

    private async Task<ValidDevice?> LookUpDeviceAsync(string hash)
    {
        await using var db = await contexts.CreateDbContextAsync(Context.RequestAborted);
        var device = await db.Devices.AsNoTracking().Where(d => d.CredentialHash == hash).Select(d => new { d.Id, d.Name }).SingleOrDefaultAsync(Context.RequestAborted);
        return device is null
            ? null
            : new ValidDevice(new ClaimsIdentity([new(PortholeClaims.DeviceId, device.Id), new(PortholeClaims.DeviceName, device.Name)], SchemeName));
    }

    /// <summary>The device an agent's credential stands for; cached and shared between requests, so never changed.</summary>
    private sealed record ValidDevice(ClaimsIdentity Identity);

    /// <summary>A principal of its own per request over the shared, never-changed identity (see <see cref="ApiTokenValidator.ValidateAsync"/>).</summary>
    private static AuthenticateResult Success(ClaimsIdentity identity) =>
        AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));

    private AuthenticateResult Fail(string reason)
    {
        Context.Items[FailureKey] = reason;
        return AuthenticateResult.Fail(reason);
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var detail = Context.Items[FailureKey] as string ?? "this request needs an API token (Authorization: Bearer); run 'porthole login'";
        Response.Headers.WWWAuthenticate = "Bearer";
        return ApiProblem.WriteAsync(Context, StatusCodes.Status401Unauthorized, ProblemCodes.Unauthorized, "Not authenticated", detail);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var policy = Context.GetEndpoint()?.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAuthorizeData>()?.Policy;
        var detail = policy is null
            // Only the deny-all fallback has no policy: no route accepts the request as it was sent (e.g. a body
            // that is not application/json ends on the framework's 415 endpoint).
            ? "no route accepts this request as sent; check the method, the path and the Content-Type (application/json)"
            : $"this action needs the '{policy}' permission";
        return ApiProblem.WriteAsync(Context, StatusCodes.Status403Forbidden, ProblemCodes.Forbidden, "Access denied", detail);
    }
}
