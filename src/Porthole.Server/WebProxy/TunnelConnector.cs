using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.EntityFrameworkCore;
using Porthole.Protocol.Api;
using Porthole.Protocol.Security;
using Porthole.Server.Audit;
using Porthole.Server.Data;
using Porthole.Server.Http;
using Porthole.Server.Identity;
using Porthole.Server.Relay;

namespace Porthole.Server.WebProxy;

/// <summary>
/// The <c>ConnectCallback</c> of a web session's HTTP handler: each new pooled connection is a tunnel session to the
/// endpoint through the agent, checked like any session. For HTTPS devices the server runs TLS over the tunnel itself
/// and pins the device's certificate on first use (self-signed certificates are the norm on devices; a changed one
/// is refused).
/// </summary>
public sealed class TunnelConnector(WebSession session, IServiceScopeFactory scopes, ILogger logger)
{
    /// <summary>The handler's connect callback: the connection opened with the session first, else a new one.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken) =>
        session.TakeWarm() ?? await OpenAsync(checkLimits: false, cancellationToken);

    /// <summary>
    /// Opens one connection to the device: a tunnel, with TLS on top for an HTTPS device; or throws the reason it
    /// cannot. Only the connection that creates the session (<paramref name="checkLimits"/>) counts against the
    /// session limits.
    /// </summary>
    public async Task<Stream> OpenAsync(bool checkLimits, CancellationToken cancellationToken)
    {
        var connection = await OpenTunnelAsync(checkLimits, cancellationToken);
        if (session.Device.Scheme != "https")
        {
            return connection;
        }

        try
        {
            return await StartTlsAsync(connection, cancellationToken);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private async Task<Stream> OpenTunnelAsync(bool checkLimits, CancellationToken cancellationToken)
    {
        var info = session.Info;
        await using var scope = scopes.CreateAsyncScope();
        var services = scope.ServiceProvider;
        var db = services.GetRequiredService<PortholeDbContext>();
        var endpoint = await db.Endpoints.AsNoTracking().Include(e => e.Device).ThenInclude(d => d!.Tags)
            .FirstOrDefaultAsync(e => e.Id == info.EndpointId, cancellationToken)
            ?? throw new WebProxyException(ApiProblem.NotFound(ProblemCodes.EndpointNotFound, $"the endpoint {info.DeviceName}/{info.EndpointName} was removed"));
        var request = new TunnelRequest(endpoint.Device!, endpoint, info.UserId, info.Username, "user:" + info.Username, Actions.Web, info.ClientAddress, info.Id, checkLimits);
        var (tunnel, problem) = await services.GetRequiredService<TunnelOpener>().OpenAsync(request, cancellationToken);
        return tunnel is null
            ? throw new WebProxyException(problem!)
            : await TunnelConnectionStream.AttachAsync(tunnel, services.GetRequiredService<ISessionBroker>());
    }

    private async Task<Stream> StartTlsAsync(Stream connection, CancellationToken cancellationToken)
    {
        X509Certificate2? offered = null;
        var tls = new SslStream(connection, leaveInnerStreamOpen: false);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = session.Device.TlsServerName,

            // Decided below, before a single byte of the request is sent: pinned, or pinned now (trust on first use).
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                offered = certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
                return offered is not null;
            },
        }, cancellationToken);

        var fingerprint = CertificateFingerprint.Of(offered!);
        var pinned = session.PinnedCertificate;
        if (pinned is null)
        {
            await PinAsync(fingerprint);
        }
        else if (!CertificateFingerprint.Matches(offered!, pinned))
        {
            await tls.DisposeAsync();
            await RefuseChangedCertificateAsync(fingerprint, pinned);
        }

        return tls;
    }

    private async Task PinAsync(string fingerprint)
    {
        var info = session.Info;
        session.PinnedCertificate = fingerprint;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortholeDbContext>();
        var pinnedNow = await db.Endpoints.Where(e => e.Id == info.EndpointId && e.TlsCertificateSha256 == null)
            .ExecuteUpdateAsync(e => e.SetProperty(x => x.TlsCertificateSha256, fingerprint));
        if (pinnedNow > 0)
        {
            await scope.ServiceProvider.GetRequiredService<AuditLog>().WriteAsync(
                "user:" + info.Username, "endpoint.tls-certificate-pin", $"device:{info.DeviceName}/{info.EndpointName}", detail: fingerprint, clientAddress: info.ClientAddress);
        }
    }

    private async Task RefuseChangedCertificateAsync(string offered, string pinned)
    {
        var info = session.Info;
        WebProxyLog.CertificateMismatch(logger, session.Id, offered, pinned);
        await using (var scope = scopes.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<AuditLog>().WriteAsync(
                "user:" + info.Username, "session.tls-certificate-mismatch", $"device:{info.DeviceName}/{info.EndpointName}",
                AuditOutcomes.Denied, $"pinned {pinned}, offered {offered}", info.ClientAddress);
        }

        throw new WebProxyException(ApiProblem.Create(StatusCodes.Status502BadGateway, ProblemCodes.TlsCertificateChanged, "Device certificate changed",
            $"{info.DeviceName}/{info.EndpointName} presented a TLS certificate with SHA-256 {offered}, but {pinned} is pinned. If the device's certificate " +
            $"was replaced on purpose, forget the old one with 'porthole endpoints forget-host-key {info.DeviceName}/{info.EndpointName}' and open the page again."));
    }
}
