using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Porthole.Protocol.Api;
using Porthole.Protocol.Security;
using Porthole.Server.Audit;
using Porthole.Server.Data;
using Porthole.Server.Http;

namespace Porthole.Server.Agents;

/// <summary><c>POST /api/v1/agent/enrol</c>: a one-time enrolment token becomes a long-lived device credential.</summary>
public static class EnrolmentApi
{
    public static void MapEnrolmentApi(this IEndpointRouteBuilder agent)
    {
        // Anonymous by design: the enrolment token in the body is the credential.
        agent.MapPost("/enrol", EnrolAsync).AllowAnonymous();
    }

    private static async Task<Results<Ok<EnrolResponse>, ProblemHttpResult>> EnrolAsync(
        EnrolRequest request, HttpContext context, PortholeDbContext db, AuditLog audit, TimeProvider time, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.Token) || !request.Token.StartsWith(SecretTokens.EnrolmentPrefix, StringComparison.Ordinal))
        {
            return Invalid();
        }

        var hash = SecretTokens.Hash(request.Token.Trim());
        var device = await db.Devices.SingleOrDefaultAsync(d => d.EnrolmentTokenHash == hash, cancellationToken);
        var now = time.GetUtcNow();
        if (device is null || device.EnrolmentExpiresAt is not { } expires || expires <= now)
        {
            await audit.WriteAsync("anonymous", "device.enrol", device is null ? null : "device:" + device.Name, AuditOutcomes.Failure,
                device is null ? "unknown or used token" : "expired token", context.ClientAddress(), cancellationToken);
            return Invalid();
        }

        var credential = SecretTokens.Create(SecretTokens.DeviceCredentialPrefix);
        device.CredentialHash = SecretTokens.Hash(credential);
        device.EnrolmentTokenHash = null;
        device.EnrolmentExpiresAt = null;
        device.EnrolledAt = now;
        device.AgentVersion = request.AgentVersion;
        device.AgentHostname = request.Hostname;
        audit.Add("device:" + device.Name, "device.enrol", "device:" + device.Name, detail: request.Hostname is null ? null : "host " + request.Hostname, clientAddress: context.ClientAddress());
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(new EnrolResponse(device.Id, device.Name, credential));
    }

    private static ProblemHttpResult Invalid() => ApiProblem.Create(
        StatusCodes.Status401Unauthorized, ProblemCodes.EnrolmentInvalid, "Enrolment refused",
        "the enrolment token is unknown, already used or expired; issue a new one with 'porthole devices enrol-token DEVICE'");
}
