using Microsoft.AspNetCore.Http.HttpResults;
using Porthole.Protocol.Api;
using Porthole.Server.Audit;
using Porthole.Server.Data;
using Porthole.Server.Endpoints;
using Porthole.Server.Http;
using Porthole.Server.Identity;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace Porthole.Server.Vault;

/// <summary>
/// <c>/api/v1/devices/{device}/endpoints/{endpoint}/credential</c>: write-only stored credentials, and the pinned SSH
/// host key. Responses say whether a credential is set and of which kind, never what it is.
/// </summary>
public static class EndpointCredentialsApi
{
    private const int MaxSecretLength = 16 * 1024;

    public static void MapEndpointCredentialsApi(this IEndpointRouteBuilder api)
    {
        var endpoint = api.MapGroup("/devices/{device}/endpoints/{endpoint}").WithTags("Endpoints");
        endpoint.MapPut("/credential", SetAsync).RequireAuthorization(Permissions.RemoteAccessConfigure);
        endpoint.MapDelete("/credential", ClearAsync).RequireAuthorization(Permissions.RemoteAccessConfigure);
        endpoint.MapDelete("/ssh-host-key", ForgetHostKeyAsync).RequireAuthorization(Permissions.RemoteAccessConfigure);
    }

    private static async Task<Results<Ok<EndpointDto>, ProblemHttpResult>> SetAsync(
        string device, string endpoint, SetCredentialRequest request, HttpContext context, PortholeDbContext db, AuditLog audit, CredentialVault vault, TimeProvider time, CancellationToken cancellationToken)
    {
        var (found, problem) = await EndpointsApi.FindAsync(context, db, audit, device, endpoint, Permissions.RemoteAccessConfigure, null, cancellationToken);
        if (found is null)
        {
            return problem!;
        }

        if (Validate(request, found.Protocol) is { } invalid)
        {
            return invalid;
        }

        found.CredentialKind = request.Kind;
        found.CredentialUsername = request.Kind == CredentialKinds.VncPassword ? null : request.Username;
        found.ProtectedSecret = vault.Protect(new EndpointSecret(request.Password, request.PrivateKey, request.Passphrase));
        found.CredentialUpdatedAt = time.GetUtcNow();
        audit.Add(context.User.GetActor(), "endpoint.credential-set", $"device:{found.Device!.Name}/{found.Name}",
            detail: request.Kind + (found.CredentialUsername is null ? "" : " for user " + found.CredentialUsername), clientAddress: context.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(EndpointsApi.ToDto(found, found.Device));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> ClearAsync(
        string device, string endpoint, HttpContext context, PortholeDbContext db, AuditLog audit, CancellationToken cancellationToken)
    {
        var (found, problem) = await EndpointsApi.FindAsync(context, db, audit, device, endpoint, Permissions.RemoteAccessConfigure, null, cancellationToken);
        if (found is null)
        {
            return problem!;
        }

        var kind = found.CredentialKind;
        (found.CredentialKind, found.CredentialUsername, found.ProtectedSecret, found.CredentialUpdatedAt) = (null, null, null, null);
        audit.Add(context.User.GetActor(), "endpoint.credential-clear", $"device:{found.Device!.Name}/{found.Name}", detail: kind ?? "none stored", clientAddress: context.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> ForgetHostKeyAsync(
        string device, string endpoint, HttpContext context, PortholeDbContext db, AuditLog audit, CancellationToken cancellationToken)
    {
        var (found, problem) = await EndpointsApi.FindAsync(context, db, audit, device, endpoint, Permissions.RemoteAccessConfigure, null, cancellationToken);
        if (found is null)
        {
            return problem!;
        }

        // One route forgets the endpoint's pinned identity, whichever it has: an SSH host key or an HTTPS device's certificate.
        var previous = found.SshHostKey ?? found.TlsCertificateSha256;
        var what = found.SshHostKey is not null ? "SSH host key" : found.TlsCertificateSha256 is not null ? "TLS certificate" : "pinned key";
        (found.SshHostKey, found.TlsCertificateSha256) = (null, null);
        audit.Add(context.User.GetActor(), "endpoint.ssh-host-key-forget", $"device:{found.Device!.Name}/{found.Name}",
            detail: $"{what} was {previous ?? "(none)"}; the next connection pins the one it sees", clientAddress: context.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult? Validate(SetCredentialRequest request, string protocol)
    {
        if (!CredentialKinds.All.Contains(request.Kind))
        {
            return ApiProblem.Validation("kind must be one of: " + string.Join(", ", CredentialKinds.All));
        }

        if (!CredentialKinds.FitsProtocol(request.Kind, protocol))
        {
            return ApiProblem.Validation($"a {request.Kind} credential does not fit a {protocol} endpoint");
        }

        if ((request.Password?.Length ?? 0) > MaxSecretLength || (request.PrivateKey?.Length ?? 0) > MaxSecretLength || (request.Passphrase?.Length ?? 0) > MaxSecretLength)
        {
            return ApiProblem.Validation("a secret may be at most 16 KiB");
        }

        var needsUser = request.Kind != CredentialKinds.VncPassword;
        if (needsUser && (string.IsNullOrWhiteSpace(request.Username) || request.Username.Length > 256))
        {
            return ApiProblem.Validation("username is required for this kind (at most 256 characters)");
        }

        if (request.Kind == CredentialKinds.SshKey)
        {
            return string.IsNullOrEmpty(request.PrivateKey) ? ApiProblem.Validation("privateKey is required for ssh-key") : CheckPrivateKey(request.PrivateKey, request.Passphrase);
        }

        return string.IsNullOrEmpty(request.Password) ? ApiProblem.Validation("password is required for this kind") : null;
    }

    private static ProblemHttpResult? CheckPrivateKey(string privateKey, string? passphrase)
    {
        try
        {
            using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(privateKey));
            using var key = new PrivateKeyFile(stream, passphrase);
            return null;
        }
        catch (Exception ex) when (ex is SshException or ArgumentException or InvalidOperationException or FormatException or NotSupportedException)
        {
            // The library's message names the format problem; it never contains key material.
            return ApiProblem.Validation("privateKey could not be read (wrong passphrase or unsupported format): " + ex.Message);
        }
    }
}
