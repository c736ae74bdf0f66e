using System.Globalization;
using Porthole.Protocol.Api;

namespace Porthole.Cli.Api;

/// <summary>The audit log: query, export, verify.</summary>
public sealed partial class PortholeApiClient
{
    /// <summary><c>GET /api/v1/audit</c>: one page, newest first.</summary>
    public Task<AuditPage> ListAuditAsync(AuditQuery query, int? page, int? pageSize, CancellationToken cancellationToken) =>
        SendAsync(
            HttpMethod.Get,
            "api/v1/audit" + query.ToQueryString(("page", page?.ToString(CultureInfo.InvariantCulture)), ("pageSize", pageSize?.ToString(CultureInfo.InvariantCulture))),
            null,
            ApiJsonContext.Default.AuditPage,
            cancellationToken);

    /// <summary><c>GET /api/v1/audit/export</c>: copies the body, unchanged, to <paramref name="destination"/>.</summary>
    public async Task ExportAuditAsync(AuditQuery query, string format, Stream destination, CancellationToken cancellationToken)
    {
        using var response = await SendCoreAsync(HttpMethod.Get, "api/v1/audit/export" + query.ToQueryString(("format", format)), null, cancellationToken);
        try
        {
            await response.Content.CopyToAsync(destination, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw ConnectionErrors.Describe(BaseAddress, _trust, ex);
        }
    }

    /// <summary><c>GET /api/v1/audit/verify</c>: checks the hash chain.</summary>
    public Task<AuditVerification> VerifyAuditAsync(CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, "api/v1/audit/verify", null, ApiJsonContext.Default.AuditVerification, cancellationToken);
}
