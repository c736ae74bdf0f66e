using Porthole.Tunnel.Tls;

namespace Porthole.Tunnel.Transport;

/// <summary>
/// The agent's and the CLI's HTTP handler when OpenSSL does their TLS (docs/design/tls-data-plane.md, "OpenSSL in the
/// agent and the CLI"). <c>SocketsHttpHandler</c> does TLS itself for <c>https</c> requests but takes any stream its
/// connect callback returns for <c>http</c> ones; so an <c>https</c> request goes to an inner handler as <c>http</c>,
/// with the <c>Host</c> it would have had, and that handler's connections are dialled by <see cref="ProxyDialer"/>,
/// encrypted by <see cref="OpenSslClientStream"/> and checked by <see cref="ServerCertificateCheck"/> before it writes
/// the request. The caller's request gets its URI back before the response is returned. REST calls, WebSocket upgrades
/// and the spare connection all come through here, so they share the one pool.
/// </summary>
public sealed class ClientTlsHandler : HttpMessageHandler
{
    private readonly HttpMessageInvoker _openSsl;
    private readonly HttpMessageInvoker _standard;
    private readonly OpenSslClientContext _context;
    private readonly ServerCertificateCheck _check;

    // Set once a proxy has asked for authentication ProxyDialer cannot give: from then on SocketsHttpHandler's own
    // TLS and proxy support (NTLM, Negotiate, Digest) carry every https request.
    private volatile bool _proxyNeedsHandler;

    /// <param name="check">The trust's certificate check, run on every new connection before the request is written.</param>
    /// <param name="standard">
    /// For plain <c>http://</c> servers, and for <c>https</c> ones reached through a proxy <see cref="ProxyDialer"/>
    /// does not speak to.
    /// </param>
    public ClientTlsHandler(ServerCertificateCheck check, SocketsHttpHandler standard)
    {
        _check = check;
        _context = OpenSslClientContext.Create();
        _standard = new HttpMessageInvoker(standard);
        _openSsl = new HttpMessageInvoker(new SocketsHttpHandler
        {
            // The proxy is ProxyDialer's: the inner handler must not send an "http" request to an HTTP_PROXY.
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            PooledConnectionIdleTimeout = standard.PooledConnectionIdleTimeout,
            ConnectTimeout = standard.ConnectTimeout,
            ConnectCallback = ConnectAsync,
        });
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        request.RequestUri is { Scheme: "https" } server && !_proxyNeedsHandler && ProxyDialer.CanDial(server)
            ? SendOverOpenSslAsync(request, server, cancellationToken)
            : _standard.SendAsync(request, cancellationToken);

    private async Task<HttpResponseMessage> SendOverOpenSslAsync(HttpRequestMessage request, Uri server, CancellationToken cancellationToken)
    {
        var setHost = request.Headers.Host is null;
        if (setHost)
        {
            request.Headers.Host = HostHeader(server);
        }

        request.RequestUri = new UriBuilder(server) { Scheme = Uri.UriSchemeHttp, Port = server.Port }.Uri;
        try
        {
            return await _openSsl.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex) when (FindProxyAuthentication(ex) is not null)
        {
            // Refused while dialling, before a byte of the request was written: it can go the other way unchanged.
            _proxyNeedsHandler = true;
        }
        finally
        {
            request.RequestUri = server;
            if (setHost)
            {
                request.Headers.Host = null;
            }
        }

        return await _standard.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    private static ProxyAuthenticationRequiredException? FindProxyAuthentication(Exception? exception)
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is ProxyAuthenticationRequiredException found)
            {
                return found;
            }
        }

        return null;
    }

    /// <summary>The <c>Host</c> SocketsHttpHandler sends for <paramref name="server"/>: the ASCII (IDN) name, IPv6 in brackets, the port unless it is 443.</summary>
    public static string HostHeader(Uri server)
    {
        var host = server.HostNameType == UriHostNameType.IPv6 ? "[" + server.IdnHost.Trim('[', ']') + "]" : server.IdnHost;
        return server.IsDefaultPort ? host : host + ":" + server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext connection, CancellationToken cancellationToken)
    {
        var (host, port) = (connection.DnsEndPoint.Host, connection.DnsEndPoint.Port);
        var socket = await ProxyDialer.DialAsync(host, port, cancellationToken).ConfigureAwait(false);
        var stream = await OpenSslClientStream.ConnectAsync(socket, _context, host, port, cancellationToken).ConfigureAwait(false);
        try
        {
            _check.Verify(stream, host, stream.PeerCertificates);
            stream.MarkTrusted();
            return stream;
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _openSsl.Dispose();
            _standard.Dispose();
            _context.Dispose();
        }

        base.Dispose(disposing);
    }
}
